import { DomainError } from '../../domain/domain-error.js';
import { traceLinks, type DeletionRequest } from '../../domain/deletion-request.js';
import type { Admission } from '../../domain/erasure-breaker.js';
import { expire } from '../../domain/lifecycle.js';
import { ownerAlertsDueAt } from '../../domain/owner-alerts.js';
import { systemActor } from '../../domain/principal.js';
import { bounded } from '../common/bounded.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { admitToErasures } from '../admin/erasure-breaker.js';
import { purgeRequest, type PassStop, type PurgeDeps } from './purge-request.js';
import { sendNotices } from '../notices/owe-notices.js';
import { sendOwedNotices } from '../notices/send-owed-notices.js';
import { sendOwnerAlerts } from '../notices/send-owner-alerts.js';
import { shredSubjectKey } from './shred-subject-key.js';
import { settleAccount } from './settle-account.js';
import { attributeKeys, workerSpans } from '../../telemetry/catalogue.js';

const BATCH = 50;
/** An unsynced request younger than this is still being settled by its API call. */
const SETTLE_GRACE_MS = 10_000;

/** One request the pass could not handle; it stays as it was and is retried next pass. */
export interface WorkerFailure {
  readonly deletionRequest: string;
  readonly step: 'expire' | 'settle' | 'sendOwed' | 'purge' | 'shred';
  readonly code: string;
  readonly reason: string;
}

/** What one pass of the worker did. */
export interface WorkerPassResult {
  readonly expired: number;
  readonly completed: number;
  readonly settled: number;
  /** Requests whose owed Suspend or Restore calls were sent this pass. */
  readonly notified: number;
  /**
   * Requests that completed with their subject's data key still there (by an
   * earlier version: the purge now destroys it in the write that completes)
   * whose key this pass destroyed.
   */
  readonly shredded: number;
  /** Requests this pass moved to NEEDS_ATTENTION: an operator must act. */
  readonly needsAttention: readonly string[];
  /** Erasures due to start that the mass-deletion breaker held back (they stay SCHEDULED). */
  readonly held: number;
  /** True when an erasure of this pass tripped the breaker: an administrator must resume. */
  readonly tripped: boolean;
  /** Purges may be due that this pass left (its batch was full, or another write got to one first): the next should start at once. */
  readonly more: boolean;
  readonly failures: readonly WorkerFailure[];
}

const context = (deps: Pick<DeletionDeps, 'clock' | 'trace'>, component: string) => ({
  actor: systemActor(component),
  now: deps.clock.now(),
  ...deps.trace.current(),
});

/**
 * Runs one step per request, up to `workerConcurrency` at once, each in the
 * root span of a trace of its own (the worker runs outside any request),
 * linked to the traces of the request's life so far; keeps going when one fails.
 */
const eachRequest = async (
  deps: Pick<DeletionDeps, 'policy' | 'trace'>,
  step: WorkerFailure['step'],
  work: {
    readonly requests: readonly DeletionRequest[];
    readonly run: (request: DeletionRequest) => Promise<boolean>;
    readonly stop?: PassStop | undefined;
  },
): Promise<{ done: number; failures: WorkerFailure[] }> => {
  let done = 0;
  const failures: WorkerFailure[] = [];
  await bounded(work.requests, deps.policy.workerConcurrency, async (request) => {
    if (work.stop?.signal.aborted === true) return;
    try {
      const ok = await deps.trace.inLinkedSpan(
        {
          name: workerSpans[step],
          attributes: { [attributeKeys.requestId]: request.id },
          links: traceLinks(request),
        },
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
  });
  return { done, failures };
};

/** Moves REQUESTED requests past their confirmation window to EXPIRED. */
const expireUnconfirmed = async (
  deps: Pick<DeletionDeps, 'clock' | 'policy' | 'requests' | 'trace'>,
  stop: PassStop | undefined,
) =>
  eachRequest(deps, 'expire', {
    stop,
    requests: await deps.requests.findExpired(deps.clock.now(), BATCH),
    run: (request) => deps.requests.update(expire(request, context(deps, 'sweeper')), request),
  });

/**
 * Finishes account side effects (deactivation, revocation) that a call made
 * but could not finish (the database went away after its write, or its
 * replica died). Part of every worker pass, and run on its own by every
 * replica (worker or not), so an account is settled within
 * `SETTLE_GRACE_MS` plus that period even when no worker runs.
 */
export const settleStragglers = async (
  deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'policy' | 'requests' | 'trace'>,
  stop?: PassStop,
) =>
  eachRequest(deps, 'settle', {
    stop,
    requests: await deps.requests.findUnsynced(
      new Date(deps.clock.now().getTime() - SETTLE_GRACE_MS),
      BATCH,
    ),
    run: async (request) => (await settleAccount(deps, request))?.accountSynced === true,
  });

/** The list from a random starting point (same order, wrapped around). */
const rotate = <T>(items: readonly T[], random: () => number): T[] => {
  const start = Math.floor(random() * items.length);
  return [...items.slice(start), ...items.slice(0, start)];
};

/**
 * Sends what is owed and due: Suspend and Restore calls to linked services,
 * then the notices to the subject, then alerts to linked services' owners
 * (each on the request as the one before left it).
 */
const sendDueNotices = async (
  deps: Pick<
    DeletionDeps,
    | 'accounts'
    | 'clock'
    | 'metrics'
    | 'notifier'
    | 'ownerAlerts'
    | 'participants'
    | 'policy'
    | 'requests'
    | 'trace'
  >,
  stop: PassStop | undefined,
) =>
  eachRequest(deps, 'sendOwed', {
    stop,
    requests: await deps.requests.findNoticesDue(deps.clock.now(), BATCH),
    run: async (request) => {
      const called = await sendNotices(deps, request);
      const afterCalls = called ? await deps.requests.findById(request.id) : request;
      const told = afterCalls !== null && (await sendOwedNotices(deps, afterCalls));
      // Read again only for alerts due: most requests here owe none, and a read each would cost.
      const alertsDueAt = ownerAlertsDueAt(request.ownerAlerts);
      if (alertsDueAt === null || alertsDueAt > deps.clock.now()) return called || told;
      const afterTold = told ? await deps.requests.findById(request.id) : afterCalls;
      const alerted = afterTold !== null && (await sendOwnerAlerts(deps, afterTold));
      return called || told || alerted;
    },
  });

/**
 * Purges every request whose grace period is over, whose purge has a retry
 * or report due, or whose purge lost its worker. Requests that end up
 * needing attention are listed, for the alert.
 */
const purgeDue = async (deps: PurgeDeps, owner: string, stop: PassStop | undefined) => {
  const needsAttention: string[] = [];
  let held = 0;
  let tripped = false;
  /** Purges another writer got to first (a notice's record, say): due still, tried again at once. */
  let lostRaces = 0;
  // Replicas see the same due requests: each starts at a random point, so they rarely collide.
  const due = rotate(
    await deps.requests.findDueForErasure(deps.clock.now(), BATCH),
    deps.policy.retry.random,
  );
  // The breaker is asked once for every erasure about to start, not once per request.
  const starting = due.filter((request) => request.state === 'SCHEDULED');
  const admissions = new Map<string, Admission>();
  let refused: WorkerFailure[] = [];
  try {
    const answers = await admitToErasures(deps, starting);
    starting.forEach((request, index) => admissions.set(request.id, answers[index] ?? 'PAUSED'));
  } catch (error) {
    const { code, reason } = DomainError.from(error);
    refused = starting.map((request) => ({
      deletionRequest: request.id,
      step: 'purge',
      code,
      reason,
    }));
  }
  const result = await eachRequest(deps, 'purge', {
    requests: due.filter((request) => request.state !== 'SCHEDULED' || admissions.has(request.id)),
    stop,
    run: async (request) => {
      const outcome = await purgeRequest(deps, request, {
        owner,
        admitted: admissions.get(request.id),
        stop,
      });
      if (outcome === 'NEEDS_ATTENTION') {
        needsAttention.push(request.id);
        // The owners hear at once, not a pass later; a failure here leaves them owed, not lost.
        const stuck = await deps.requests.findById(request.id);
        if (stuck !== null) await sendOwnerAlerts(deps, stuck).catch(() => false);
      }
      if (outcome === 'PAUSED' || outcome === 'TRIPPED') held += 1;
      if (outcome === 'TRIPPED') tripped = true;
      if (outcome === 'LOST_RACE') lostRaces += 1;
      return outcome === 'COMPLETED';
    },
  });
  return {
    ...result,
    failures: [...refused, ...result.failures],
    needsAttention,
    held,
    tripped,
    more: due.length === BATCH || lostRaces > 0,
  };
};

/** Destroys the data keys of subjects whose requests completed with them still there. */
const shredCompleted = async (
  deps: Pick<
    DeletionDeps,
    'audit' | 'clock' | 'policy' | 'pseudonymOf' | 'requests' | 'shredding' | 'trace'
  >,
  stop: PassStop | undefined,
) =>
  eachRequest(deps, 'shred', {
    stop,
    requests: await deps.requests.findUnshredded(BATCH),
    run: (request) => shredSubjectKey(deps, request),
  });

const NOTHING = { done: 0, failures: [] as WorkerFailure[] };

/**
 * One pass of all background work, in order: expiry, unfinished account side
 * effects, owed Suspend/Restore calls, purges (each destroys its subject's
 * key as it completes), then crypto-shredding of what completed with a key
 * left. A request that fails is reported and retried next pass; it never
 * stops the others. Once `stop` aborts, no step and no request starts.
 */
export const runWorkerPass = async (
  deps: PurgeDeps,
  owner: string,
  stop?: PassStop,
): Promise<WorkerPassResult> => {
  const unless = async <T>(step: () => Promise<T>, nothing: T): Promise<T> =>
    stop?.signal.aborted === true ? nothing : step();
  const expired = await unless(() => expireUnconfirmed(deps, stop), NOTHING);
  const settled = await unless(() => settleStragglers(deps, stop), NOTHING);
  const notified = await unless(() => sendDueNotices(deps, stop), NOTHING);
  const completed = await unless(() => purgeDue(deps, owner, stop), {
    ...NOTHING,
    needsAttention: [],
    held: 0,
    tripped: false,
    more: false,
  });
  const shredded = await unless(() => shredCompleted(deps, stop), NOTHING);
  return {
    expired: expired.done,
    settled: settled.done,
    completed: completed.done,
    needsAttention: completed.needsAttention,
    held: completed.held,
    tripped: completed.tripped,
    more: completed.more,
    notified: notified.done,
    shredded: shredded.done,
    failures: [
      ...expired.failures,
      ...settled.failures,
      ...notified.failures,
      ...completed.failures,
      ...shredded.failures,
    ],
  };
};
