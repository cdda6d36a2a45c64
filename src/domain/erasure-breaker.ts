import type { DeletionRequest } from './deletion-request.js';
import { DomainError } from './domain-error.js';
import { isSubjectItself, type Actor } from './principal.js';

/** The mass-deletion breaker's limits (docs/design.md §4). */
export interface BreakerPolicy {
  /** The sliding window erasure starts are counted in. */
  readonly windowMs: number;
  /** Starts allowed in the window, all requesters together; one more trips the breaker. */
  readonly limit: number;
  /** Starts allowed in the window for the requests of one requester. */
  readonly requesterLimit: number;
}

/** One erasure the breaker let start. */
export interface ErasureStart {
  readonly deletionRequestId: string;
  /** Who asked for it; null for a subject deleting their own account (each can only do that once). */
  readonly requester: string | null;
  readonly at: Date;
}

/** Why erasures are paused. */
export type PauseReason = 'TOTAL_LIMIT' | 'REQUESTER_LIMIT';

/**
 * The starts counted in one stretch of time: `from` up to (not including)
 * `to`, a sixtieth of the window. A stretch counts while any of it is inside
 * the window, so a start counts for at least the window and at most one
 * stretch longer: the breaker errs toward pausing, and its record stays the
 * same size however many erasures start.
 */
export interface StartCount {
  readonly from: Date;
  readonly to: Date;
  readonly total: number;
  /** Starts per requester (subjects deleting themselves are only in the total). */
  readonly requesters: readonly { readonly requester: string; readonly count: number }[];
}

/** Requests counted at one moment, remembered so that asking again does not count them twice. */
export interface CountedAt {
  readonly at: Date;
  readonly ids: readonly string[];
}

/** The breaker as stored: one document shared by every replica, written with compare-and-set. */
export interface BreakerState {
  readonly version: number;
  /** Starts in the window, by stretch (older stretches are dropped as it slides; a resume empties it). */
  readonly counts: readonly StartCount[];
  /** The requests counted in the last REMEMBERED_MS. */
  readonly counted: readonly CountedAt[];
  readonly pause: {
    readonly reason: PauseReason;
    readonly at: Date;
    readonly requester: string | null;
  } | null;
  readonly resumed: { readonly at: Date; readonly by: Actor } | null;
}

/**
 * How long a counted request is remembered. A request asked again within it
 * (a replica raced for it, or its own write failed and the next pass retried)
 * is admitted without counting twice; one asked again later (its write failed
 * for longer than this) counts again, which errs toward pausing.
 */
export const REMEMBERED_MS = 60_000;

/** A breaker that has never been written. */
export const initialBreaker: BreakerState = {
  version: 0,
  counts: [],
  counted: [],
  pause: null,
  resumed: null,
};

/** What the breaker says to an erasure about to start. */
export type Admission =
  /** Go on: the start is counted (or was counted by an earlier attempt of the same request). */
  | 'ADMITTED'
  /** Erasures are paused: the request stays SCHEDULED. */
  | 'PAUSED'
  /** This start would have gone past a limit: the breaker has just tripped, erasures are paused. */
  | 'TRIPPED';

/** Who counts as the requester of a request, for the per-requester limit. */
export const requesterOf = (request: Pick<DeletionRequest, 'requester' | 'subjectId'>) =>
  isSubjectItself(request.requester, request.subjectId) ? null : request.requester.id;

/** The stretches still (partly) inside the window at `now`. */
const liveCounts = (state: BreakerState, now: Date, policy: BreakerPolicy) =>
  state.counts.filter((count) => count.to.getTime() > now.getTime() - policy.windowMs);

/** Erasures started in the window at `now`. */
export const startedInWindow = (state: BreakerState, now: Date, policy: BreakerPolicy): number =>
  liveCounts(state, now, policy).reduce((sum, count) => sum + count.total, 0);

/** `counts` with one more start of `requester` at `at`, in the stretch that holds `at`. */
const countStart = (
  counts: readonly StartCount[],
  { requester, at }: ErasureStart,
  policy: BreakerPolicy,
): readonly StartCount[] => {
  const time = at.getTime();
  const index = counts.findIndex(
    (count) => count.from.getTime() <= time && time < count.to.getTime(),
  );
  const width = Math.max(1, Math.floor(policy.windowMs / 60));
  const from = Math.floor(time / width) * width;
  const stretch = counts[index] ?? {
    from: new Date(from),
    to: new Date(from + width),
    total: 0,
    requesters: [],
  };
  const requesters =
    requester === null
      ? stretch.requesters
      : stretch.requesters.some((entry) => entry.requester === requester)
        ? stretch.requesters.map((entry) =>
            entry.requester === requester ? { requester, count: entry.count + 1 } : entry,
          )
        : [...stretch.requesters, { requester, count: 1 }];
  const next = { ...stretch, total: stretch.total + 1, requesters };
  return index === -1
    ? [...counts, next]
    : counts.map((count, at) => (at === index ? next : count));
};

/** `counted` with `id` counted at `at`, and without what is older than REMEMBERED_MS. */
const remember = (counted: readonly CountedAt[], { deletionRequestId, at }: ErasureStart) => {
  const kept = counted.filter((entry) => entry.at.getTime() > at.getTime() - REMEMBERED_MS);
  const last = kept.at(-1);
  return last?.at.getTime() === at.getTime()
    ? [...kept.slice(0, -1), { at, ids: [...last.ids, deletionRequestId] }]
    : [...kept, { at, ids: [deletionRequestId] }];
};

/**
 * Decides whether an erasure may start, and the breaker's next state (the
 * same object when nothing changes). A request counted lately (a retried or
 * raced claim) is admitted again without counting twice, even once paused:
 * it was within the limit. Otherwise a paused breaker admits nothing, and a
 * start that would go past either limit trips it instead of starting.
 */
export const admitErasure = (
  state: BreakerState,
  start: ErasureStart,
  policy: BreakerPolicy,
): { readonly state: BreakerState; readonly admission: Admission } => {
  if (state.counted.some((entry) => entry.ids.includes(start.deletionRequestId)))
    return { state, admission: 'ADMITTED' };
  if (state.pause !== null) return { state, admission: 'PAUSED' };
  const counts = liveCounts(state, start.at, policy);
  const total = counts.reduce((sum, count) => sum + count.total, 0);
  const byRequester =
    start.requester === null
      ? 0
      : counts.reduce(
          (sum, count) =>
            sum +
            (count.requesters.find((entry) => entry.requester === start.requester)?.count ?? 0),
          0,
        );
  const reason: PauseReason | null =
    total >= policy.limit
      ? 'TOTAL_LIMIT'
      : byRequester >= policy.requesterLimit
        ? 'REQUESTER_LIMIT'
        : null;
  if (reason !== null) {
    const requester = reason === 'REQUESTER_LIMIT' ? start.requester : null;
    return {
      state: { ...state, counts, pause: { reason, at: start.at, requester } },
      admission: 'TRIPPED',
    };
  }
  return {
    state: {
      ...state,
      counts: countStart(counts, start, policy),
      counted: remember(state.counted, start),
    },
    admission: 'ADMITTED',
  };
};

/**
 * Decides a batch of starts in order, as one change of the breaker: the same
 * admissions as deciding them one after another (the one that goes past a
 * limit trips it, the rest are held).
 */
export const admitErasures = (
  state: BreakerState,
  starts: readonly ErasureStart[],
  policy: BreakerPolicy,
): { readonly state: BreakerState; readonly admissions: readonly Admission[] } => {
  let current = state;
  const admissions = starts.map((start) => {
    const decided = admitErasure(current, start, policy);
    current = decided.state;
    return decided.admission;
  });
  return { state: current, admissions };
};

/**
 * Resumes erasures: the window starts afresh, so the requests held back can
 * start (up to the limits again). Four eyes: the requester whose burst
 * tripped the breaker cannot release it (PERMISSION_DENIED `SELF_RESUME`).
 * Resuming a breaker that is not paused changes nothing (a retried resume is
 * harmless).
 */
export const resumeErasures = (
  state: BreakerState,
  by: Actor,
  at: Date,
): { readonly state: BreakerState; readonly resumed: boolean } => {
  if (state.pause === null) return { state, resumed: false };
  if (state.pause.requester === by.id) {
    throw new DomainError({
      code: 'PERMISSION_DENIED',
      reason: 'SELF_RESUME',
      message: 'the requester whose deletions tripped the breaker cannot resume it',
    });
  }
  return {
    state: { ...state, counts: [], counted: [], pause: null, resumed: { at, by } },
    resumed: true,
  };
};
