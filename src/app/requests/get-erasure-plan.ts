import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import type { DeletionState } from '../../domain/deletion-state.js';
import { admitErasure, requesterOf, type BreakerState } from '../../domain/erasure-breaker.js';
import {
  dueSteps,
  initialSteps,
  judgeSteps,
  reconcileSteps,
  type ParticipantSpec,
  type ParticipantStep,
} from '../../domain/erasure-steps.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps, DeletionPolicy } from '../deletion-deps.js';
import { getDeletionRequestInput, parseInput, type GetDeletionRequestInput } from '../inputs.js';
import { loadRequest } from './load-request.js';

/** Why a purge would not run now (NONE: it would). */
export type PlanBlocker =
  | 'NONE'
  | 'NOT_CONFIRMED'
  | 'GRACE_PERIOD'
  | 'ERASURES_PAUSED'
  | 'WOULD_TRIP_BREAKER'
  | 'IN_PROGRESS'
  | 'WAITING'
  | 'NEEDS_ATTENTION'
  | 'CLOSED';

/** What a purge would do with one linked service now. */
export type PlannedAction =
  | 'CALL'
  | 'WAIT_FOR_RETRY'
  | 'WAIT_FOR_ORDER'
  | 'WAIT_FOR_REPORT'
  | 'NONE_ANSWERED'
  | 'NONE_FAILED';

/** One linked service's part in the purge. */
export interface PlannedCall {
  readonly participant: string;
  readonly action: PlannedAction;
  readonly attempts: number;
  /** The retry (WAIT_FOR_RETRY) or the promised report (WAIT_FOR_REPORT). */
  readonly time: Date | null;
  /** The services it comes `after` that have not answered for good. */
  readonly waitingFor: readonly string[];
  readonly lastErrorCode: string | null;
}

/** What a purge of one request would do if a worker took it now. */
export interface ErasurePlan {
  readonly id: DeletionRequestId;
  readonly state: DeletionState;
  readonly blocker: PlanBlocker;
  /** When the blocker lifts, where that is known. */
  readonly startAt: Date | null;
  readonly calls: readonly PlannedCall[];
  readonly localErasure: DeletionPolicy['localErasure'];
  readonly localErasureDone: boolean;
  readonly plannedAt: Date;
}

/**
 * The steps a purge would work from: fresh ones for a request not started,
 * the recorded ones reconciled with the registry and judged (an overdue
 * report counts as failed) for one under way, as the purge does when it
 * claims it; as recorded once it stopped.
 */
const stepsOf = (
  request: DeletionRequest,
  specs: readonly ParticipantSpec[],
  now: Date,
): Readonly<Record<string, ParticipantStep>> => {
  if (['REQUESTED', 'AWAITING_APPROVAL', 'SCHEDULED'].includes(request.state))
    return initialSteps(specs, now);
  if (request.state === 'ERASING')
    return judgeSteps(reconcileSteps(request.participants, specs, now), now).steps;
  return request.participants;
};

/** Each step's next move, in registration order (services no longer registered last). */
const plannedCalls = (
  steps: Readonly<Record<string, ParticipantStep>>,
  specs: readonly ParticipantSpec[],
  now: Date,
): PlannedCall[] => {
  const due = new Set(dueSteps(steps, specs, now));
  const registered = specs.map((spec) => spec.name).filter((name) => name in steps);
  const others = Object.keys(steps).filter((name) => !registered.includes(name));
  return [...registered, ...others].flatMap((name) => {
    const step = steps[name];
    if (step === undefined) return [];
    const after = specs.find((spec) => spec.name === name)?.after ?? [];
    const waitingFor = after.filter((other) => steps[other] && steps[other].status !== 'DONE');
    const retryLater = step.status === 'RETRYING' && (step.nextAttemptAt ?? now) > now;
    const action: PlannedAction =
      step.status === 'DONE'
        ? 'NONE_ANSWERED'
        : step.status === 'FAILED'
          ? 'NONE_FAILED'
          : step.status === 'ACCEPTED'
            ? 'WAIT_FOR_REPORT'
            : due.has(name)
              ? 'CALL'
              : retryLater
                ? 'WAIT_FOR_RETRY'
                : 'WAIT_FOR_ORDER';
    const time =
      action === 'WAIT_FOR_RETRY'
        ? step.nextAttemptAt
        : action === 'WAIT_FOR_REPORT'
          ? step.expectedBy
          : null;
    return [
      {
        participant: name,
        action,
        attempts: step.attempts,
        time,
        waitingFor: action === 'WAIT_FOR_ORDER' ? waitingFor : [],
        lastErrorCode: step.lastErrorCode,
      },
    ];
  });
};

/** What the breaker would say to the request's start now, without counting it. */
const breakerBlocker = (
  request: DeletionRequest,
  breaker: { readonly state: BreakerState; readonly policy: DeletionPolicy['breaker'] },
  now: Date,
): PlanBlocker => {
  const start = { deletionRequestId: request.id, requester: requesterOf(request), at: now };
  const { admission } = admitErasure(breaker.state, start, breaker.policy);
  if (admission === 'PAUSED') return 'ERASURES_PAUSED';
  return admission === 'TRIPPED' ? 'WOULD_TRIP_BREAKER' : 'NONE';
};

/** Why the purge would not run now, and until when, by the rules the worker picks requests by. */
const blockerOf = async (
  deps: Pick<DeletionDeps, 'breaker' | 'policy'>,
  request: DeletionRequest,
  now: Date,
): Promise<{ readonly blocker: PlanBlocker; readonly startAt: Date | null }> => {
  const { state, purgeAt, leaseUntil, leaseOwner } = request;
  if (state === 'REQUESTED' || state === 'AWAITING_APPROVAL')
    return { blocker: 'NOT_CONFIRMED', startAt: null };
  if (state === 'NEEDS_ATTENTION') return { blocker: 'NEEDS_ATTENTION', startAt: null };
  if (state === 'SCHEDULED') {
    if (purgeAt !== null && purgeAt > now) return { blocker: 'GRACE_PERIOD', startAt: purgeAt };
    const breaker = { state: await deps.breaker.load(), policy: deps.policy.breaker };
    return { blocker: breakerBlocker(request, breaker, now), startAt: null };
  }
  if (state !== 'ERASING') return { blocker: 'CLOSED', startAt: null };
  if (leaseUntil !== null && leaseUntil > now)
    return { blocker: leaseOwner === null ? 'WAITING' : 'IN_PROGRESS', startAt: leaseUntil };
  return { blocker: 'NONE', startAt: null };
};

/**
 * A dry run of the purge: what a worker would do with the request if it took
 * it now, by the rules the purge follows, changing nothing (the breaker is
 * asked without counting a start). Not audited: it names linked services and
 * their progress, never the subject. Errors: PERMISSION_DENIED, NOT_FOUND.
 */
export const getErasurePlan =
  (deps: Pick<DeletionDeps, 'breaker' | 'clock' | 'participants' | 'policy' | 'requests'>) =>
  async (principal: Principal, raw: GetDeletionRequestInput): Promise<ErasurePlan> => {
    const reach = authorize(principal, 'getErasurePlan');
    const input = parseInput(getDeletionRequestInput, raw);
    const request = await loadRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'getErasurePlan',
    });
    const now = deps.clock.now();
    const { specs } = deps.participants;
    return {
      id: request.id,
      state: request.state,
      ...(await blockerOf(deps, request, now)),
      calls: plannedCalls(stepsOf(request, specs, now), specs, now),
      localErasure: deps.policy.localErasure,
      localErasureDone: request.localErasure !== null,
      plannedAt: now,
    };
  };
