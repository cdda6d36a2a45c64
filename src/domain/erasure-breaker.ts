import type { DeletionRequest } from './deletion-request.js';
import { DomainError } from './domain-error.js';
import { isSubjectItself, type Actor } from './principal.js';

/** The mass-deletion breaker's limits (DESIGN §4). */
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

/** The breaker as stored: one document shared by every replica, written with compare-and-set. */
export interface BreakerState {
  readonly version: number;
  /** Starts in the window (older ones are dropped as it slides; a resume empties it). */
  readonly starts: readonly ErasureStart[];
  readonly pause: {
    readonly reason: PauseReason;
    readonly at: Date;
    readonly requester: string | null;
  } | null;
  readonly resumed: { readonly at: Date; readonly by: Actor } | null;
}

/** A breaker that has never been written. */
export const initialBreaker: BreakerState = { version: 0, starts: [], pause: null, resumed: null };

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

/** The starts still inside the window at `now`. */
export const inWindow = (
  state: BreakerState,
  now: Date,
  policy: BreakerPolicy,
): readonly ErasureStart[] =>
  state.starts.filter((start) => start.at.getTime() > now.getTime() - policy.windowMs);

/**
 * Decides whether an erasure may start, and the breaker's next state (the
 * same object when nothing changes). A request counted before (a retried or
 * raced claim) is admitted again without counting twice, even once paused:
 * it was within the limit. Otherwise a paused breaker admits nothing, and a
 * start that would go past either limit trips it instead of starting.
 */
export const admitErasure = (
  state: BreakerState,
  start: ErasureStart,
  policy: BreakerPolicy,
): { readonly state: BreakerState; readonly admission: Admission } => {
  if (state.starts.some((counted) => counted.deletionRequestId === start.deletionRequestId))
    return { state, admission: 'ADMITTED' };
  if (state.pause !== null) return { state, admission: 'PAUSED' };
  const starts = inWindow(state, start.at, policy);
  const byRequester =
    start.requester === null ? 0 : starts.filter((s) => s.requester === start.requester).length;
  const reason: PauseReason | null =
    starts.length >= policy.limit
      ? 'TOTAL_LIMIT'
      : byRequester >= policy.requesterLimit
        ? 'REQUESTER_LIMIT'
        : null;
  if (reason !== null) {
    const requester = reason === 'REQUESTER_LIMIT' ? start.requester : null;
    return {
      state: { ...state, starts, pause: { reason, at: start.at, requester } },
      admission: 'TRIPPED',
    };
  }
  return { state: { ...state, starts: [...starts, start] }, admission: 'ADMITTED' };
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
  return { state: { ...state, starts: [], pause: null, resumed: { at, by } }, resumed: true };
};
