import { authorize } from '../../domain/authorization.js';
import { DomainError } from '../../domain/domain-error.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import {
  admitErasures,
  requesterOf,
  resumeErasures as resume,
  startedInWindow,
  type Admission,
  type BreakerPolicy,
  type BreakerState,
} from '../../domain/erasure-breaker.js';
import { systemActor, type Principal } from '../../domain/principal.js';
import { auditPrivilegedRead } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { takeTurns } from '../worker/take-turns.js';
import { noInput, parseInput, resumeErasuresInput, type ResumeErasuresInput } from '../inputs.js';
import { attributeKeys, spanEvents } from '../../telemetry/catalogue.js';

/** The breaker as an administrator sees it. */
export interface SafetyStatus {
  readonly paused: BreakerState['pause'];
  readonly startedInWindow: number;
  readonly policy: BreakerPolicy;
  readonly resumed: BreakerState['resumed'];
}

/** Racing replicas take turns on the one breaker record; this many lost turns means trouble. */
const MAX_TURNS = 50;

/** Changes of one replica's breaker, one after another: racing each other, they would only lose turns. */
const turns = new WeakMap<object, ReturnType<typeof takeTurns>>();

/**
 * Applies `step` to the stored breaker with compare-and-set, re-reading when
 * another replica wrote first. The first turn starts from the state this
 * replica saw last: a save on top of a stale one fails and the next turn
 * reads afresh; a decision that writes nothing (held, counted before) is
 * only taken on a fresh read.
 */
const changeBreaker = <T>(
  deps: Pick<DeletionDeps, 'breaker'>,
  step: (state: BreakerState) => { readonly state: BreakerState; readonly result: T },
): Promise<{ readonly state: BreakerState; readonly result: T }> => {
  const change = async () => {
    for (let turn = 0; turn < MAX_TURNS; turn += 1) {
      const cached = turn === 0;
      const current = await deps.breaker.load({ cached });
      const { state, result } = step(current);
      if (state === current) {
        if (cached) continue;
        return { state, result };
      }
      const next = { ...state, version: current.version + 1 };
      if (await deps.breaker.save(next, current)) return { state: next, result };
    }
    throw new DomainError({
      code: 'ABORTED',
      reason: 'BREAKER_CONTENDED',
      message: 'the erasure breaker is too busy; retry',
    });
  };
  let inTurn = turns.get(deps.breaker);
  if (inTurn === undefined) {
    inTurn = takeTurns();
    turns.set(deps.breaker, inTurn);
  }
  return inTurn(change);
};

const statusOf = (
  deps: Pick<DeletionDeps, 'clock' | 'policy'>,
  state: BreakerState,
): SafetyStatus => ({
  paused: state.pause,
  startedInWindow: startedInWindow(state, deps.clock.now(), deps.policy.breaker),
  policy: deps.policy.breaker,
  resumed: state.resumed,
});

/**
 * Asks the mass-deletion breaker whether the erasures of SCHEDULED requests
 * may start (docs/design.md §4), all in one change of the breaker (a worker pass
 * asks once for all it found due). The start that goes past a limit trips
 * it instead: erasures pause, the trip is audited, counted and noted on the
 * span (the worker raises the alert). While paused nothing starts; requests
 * stay SCHEDULED until an administrator resumes. Answers in the requests' order.
 */
export const admitToErasures = async (
  deps: Pick<DeletionDeps, 'audit' | 'breaker' | 'clock' | 'metrics' | 'policy' | 'trace'>,
  requests: readonly DeletionRequest[],
): Promise<readonly Admission[]> => {
  if (requests.length === 0) return [];
  const at = deps.clock.now();
  const starts = requests.map((request) => ({
    deletionRequestId: request.id,
    requester: requesterOf(request),
    at,
  }));
  const { state, result: admissions } = await changeBreaker(deps, (current) => {
    const decided = admitErasures(current, starts, deps.policy.breaker);
    return { state: decided.state, result: decided.admissions };
  });
  for (const admission of admissions) if (admission === 'PAUSED') deps.metrics.erasureHeld();
  const tripped = requests[admissions.indexOf('TRIPPED')];
  if (tripped !== undefined && state.pause !== null) {
    deps.metrics.breakerTripped(state.pause.reason);
    deps.trace.event(spanEvents.erasuresPaused, {
      [attributeKeys.breakerReason]: state.pause.reason,
    });
    await deps.audit.log.append({
      kind: 'ERASURES_PAUSED',
      at,
      actor: systemActor('erasure-breaker'),
      deletionRequestId: tripped.id,
      subjectPseudonym: null,
      details: {
        reason: state.pause.reason,
        requester: state.pause.requester ?? '',
        limit: String(deps.policy.breaker.limit),
        requesterLimit: String(deps.policy.breaker.requesterLimit),
        windowSeconds: String(deps.policy.breaker.windowMs / 1000),
      },
      // One event per trip, whoever appends it.
      key: `breaker#${String(state.version)}#paused`,
    });
  }
  return admissions;
};

/** As admitToErasures, for one request. */
export const admitToErasure = async (
  deps: Pick<DeletionDeps, 'audit' | 'breaker' | 'clock' | 'metrics' | 'policy' | 'trace'>,
  request: DeletionRequest,
): Promise<Admission> => (await admitToErasures(deps, [request]))[0] ?? 'PAUSED';

/** The breaker's state. Errors: PERMISSION_DENIED. Audited as a privileged read. */
export const getSafetyStatus =
  (deps: Pick<DeletionDeps, 'audit' | 'breaker' | 'clock' | 'ids' | 'policy' | 'pseudonymOf'>) =>
  async (principal: Principal, raw?: unknown): Promise<SafetyStatus> => {
    authorize(principal, 'getSafetyStatus');
    parseInput(noInput, raw);
    const status = statusOf(deps, await deps.breaker.load());
    await auditPrivilegedRead(deps, principal, { operation: 'getSafetyStatus' });
    return status;
  };

/**
 * Resumes paused erasures; the window starts afresh. The resume is audited
 * with its justification before it is answered. Resuming when not paused
 * changes nothing. Errors: PERMISSION_DENIED, INVALID_ARGUMENT.
 */
export const resumeErasures =
  (deps: Pick<DeletionDeps, 'audit' | 'breaker' | 'clock' | 'policy'>) =>
  async (principal: Principal, raw: ResumeErasuresInput): Promise<SafetyStatus> => {
    authorize(principal, 'resumeErasures');
    const input = parseInput(resumeErasuresInput, raw);
    const at = deps.clock.now();
    const { state, result: resumed } = await changeBreaker(deps, (current) => {
      const next = resume(current, principal.actor, at);
      return { state: next.state, result: next.resumed };
    });
    if (resumed) {
      await deps.audit.log.append({
        kind: 'ERASURES_RESUMED',
        at,
        actor: principal.actor,
        deletionRequestId: null,
        subjectPseudonym: null,
        details: { justification: input.justification },
        key: `breaker#${String(state.version)}#resumed`,
      });
    }
    return statusOf(deps, state);
  };
