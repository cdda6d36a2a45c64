import { DomainError } from '../domain/domain-error.js';
import type { DeletionRequest } from '../domain/deletion-request.js';
import { complete, expire, startErasing } from '../domain/lifecycle.js';
import { systemActor } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import { settleAccount } from './settle-account.js';

const BATCH = 50;
/** An unsynced request younger than this is still being settled by its API call. */
const SETTLE_GRACE_MS = 10_000;

/** One request the pass could not handle; it stays as it was and is retried next pass. */
export interface WorkerFailure {
  readonly deletionRequest: string;
  readonly step: 'expire' | 'settle' | 'purge';
  readonly code: string;
  readonly reason: string;
}

/** What one pass of the worker did. */
export interface WorkerPassResult {
  readonly expired: number;
  readonly completed: number;
  readonly settled: number;
  readonly failures: readonly WorkerFailure[];
}

const context = (deps: DeletionDeps, component: string) => ({
  actor: systemActor(component),
  now: deps.clock.now(),
  traceId: deps.trace.currentTraceId(),
});

/**
 * Runs one step per request, each in its own span (a trace of its own, since
 * the worker runs outside any request), and keeps going when one fails.
 */
const eachRequest = async (
  deps: DeletionDeps,
  step: WorkerFailure['step'],
  work: {
    readonly requests: readonly DeletionRequest[];
    readonly run: (request: DeletionRequest) => Promise<boolean>;
  },
): Promise<{ done: number; failures: WorkerFailure[] }> => {
  let done = 0;
  const failures: WorkerFailure[] = [];
  for (const request of work.requests) {
    try {
      const ok = await deps.trace.inSpan(
        `deletion.${step}`,
        { 'deletion.request_id': request.id },
        () => work.run(request),
      );
      if (ok) done += 1;
    } catch (error) {
      const failure = DomainError.from(error);
      failures.push({
        deletionRequest: request.id,
        step,
        code: failure.code,
        reason: failure.reason,
      });
    }
  }
  return { done, failures };
};

/** Moves REQUESTED requests past their confirmation window to EXPIRED. */
const expireUnconfirmed = async (deps: DeletionDeps) =>
  eachRequest(deps, 'expire', {
    requests: await deps.requests.findExpired(deps.clock.now(), BATCH),
    run: (request) =>
      deps.requests.update(expire(request, context(deps, 'sweeper')), request.version),
  });

/** Finishes account side effects that a crash left undone. */
const settleStragglers = async (deps: DeletionDeps) =>
  eachRequest(deps, 'settle', {
    requests: await deps.requests.findUnsynced(
      new Date(deps.clock.now().getTime() - SETTLE_GRACE_MS),
      BATCH,
    ),
    run: async (request) => (await settleAccount(deps, request.id))?.accountSynced === true,
  });

/**
 * Claims one due request with a lease (one version-guarded update: only one
 * worker wins), erases the account's local data, and completes it. A worker
 * that crashes mid-way leaves a lease that expires; the next one resumes.
 * Erasing is idempotent, so a resumed purge never doubles an effect.
 */
const purgeOne = async (
  deps: DeletionDeps,
  request: DeletionRequest,
  owner: string,
): Promise<boolean> => {
  const now = deps.clock.now();
  const lease = { owner, until: new Date(now.getTime() + deps.policy.leaseMs) };
  const claimed =
    request.state === 'SCHEDULED'
      ? startErasing(request, lease, context(deps, 'purge-worker'))
      : {
          ...request,
          version: request.version + 1,
          updatedAt: now,
          leaseOwner: owner,
          leaseUntil: lease.until,
        };
  if (!(await deps.requests.update(claimed, request.version))) return false;
  await deps.accounts.erase(claimed.subjectId);
  return deps.requests.update(complete(claimed, context(deps, 'purge-worker')), claimed.version);
};

/** Purges every request whose grace period is over (or whose purge lost its worker). */
const purgeDue = async (deps: DeletionDeps, owner: string) =>
  eachRequest(deps, 'purge', {
    requests: await deps.requests.findDueForErasure(deps.clock.now(), BATCH),
    run: (request) => purgeOne(deps, request, owner),
  });

/**
 * One pass of all background work, in order: expiry, unfinished account side
 * effects, purges. A request that fails is reported and retried next pass;
 * it never stops the others.
 */
export const runWorkerPass = async (
  deps: DeletionDeps,
  owner: string,
): Promise<WorkerPassResult> => {
  const expired = await expireUnconfirmed(deps);
  const settled = await settleStragglers(deps);
  const completed = await purgeDue(deps, owner);
  return {
    expired: expired.done,
    settled: settled.done,
    completed: completed.done,
    failures: [...expired.failures, ...settled.failures, ...completed.failures],
  };
};
