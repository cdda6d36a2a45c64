import type { DeletionRequest } from '../domain/deletion-request.js';
import { complete, expire, startErasing } from '../domain/lifecycle.js';
import { systemActor } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import { settleAccount } from './settle-account.js';

const BATCH = 50;
/** An unsynced request younger than this is still being settled by its API call. */
const SETTLE_GRACE_MS = 10_000;

/** What one pass of the worker did. */
export interface WorkerPassResult {
  readonly expired: number;
  readonly completed: number;
  readonly settled: number;
}

const context = (deps: DeletionDeps, component: string) => ({
  actor: systemActor(component),
  now: deps.clock.now(),
  traceId: deps.trace.currentTraceId(),
});

/** Moves REQUESTED requests past their confirmation window to EXPIRED. */
export const expireUnconfirmed = async (deps: DeletionDeps): Promise<number> => {
  const due = await deps.requests.findExpired(deps.clock.now(), BATCH);
  let expired = 0;
  for (const request of due) {
    if (await deps.requests.update(expire(request, context(deps, 'sweeper')), request.version))
      expired += 1;
  }
  return expired;
};

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
      : { ...request, version: request.version + 1, leaseOwner: owner, leaseUntil: lease.until };
  if (!(await deps.requests.update(claimed, request.version))) return false;
  await deps.accounts.erase(claimed.subjectId);
  return deps.requests.update(complete(claimed, context(deps, 'purge-worker')), claimed.version);
};

/** Purges every request whose grace period is over. */
export const purgeDue = async (deps: DeletionDeps, owner: string): Promise<number> => {
  const due = await deps.requests.findDueForErasure(deps.clock.now(), BATCH);
  let completed = 0;
  for (const request of due) {
    if (await purgeOne(deps, request, owner)) completed += 1;
  }
  return completed;
};

/** Finishes account side effects that a crash left undone. */
export const settleStragglers = async (deps: DeletionDeps): Promise<number> => {
  const before = new Date(deps.clock.now().getTime() - SETTLE_GRACE_MS);
  const stragglers = await deps.requests.findUnsynced(before, BATCH);
  for (const request of stragglers) await settleAccount(deps, request.id);
  return stragglers.length;
};

/** One pass of all background work, in order. */
export const runWorkerPass = async (
  deps: DeletionDeps,
  owner: string,
): Promise<WorkerPassResult> => ({
  expired: await expireUnconfirmed(deps),
  settled: await settleStragglers(deps),
  completed: await purgeDue(deps, owner),
});
