import { authorize } from '../domain/authorization.js';
import { DomainError, invalidState } from '../domain/domain-error.js';
import type { ConfirmationMethod, DeletionRequest } from '../domain/deletion-request.js';
import { confirm } from '../domain/lifecycle.js';
import type { Principal } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import { confirmDeletionInput, parseInput, type ConfirmDeletionInput } from './inputs.js';
import { loadRequest } from './load-request.js';
import { mutateRequest } from './mutate-request.js';
import { settleAccount } from './settle-account.js';

const refuse = (reason: string, message: string, request: DeletionRequest): DomainError =>
  new DomainError({
    code: 'FAILED_PRECONDITION',
    reason,
    message,
    metadata: { deletionRequest: request.id },
  });

/** A step-up token counts when it is the subject's own, multi-factor, and fresh. */
const assertStepUp = (deps: DeletionDeps, principal: Principal, request: DeletionRequest): void => {
  const { allowed, maxAgeMs } = deps.policy.stepUp;
  const fresh =
    principal.authTime !== null &&
    deps.clock.now().getTime() - principal.authTime.getTime() <= maxAgeMs;
  const own = principal.actor.kind === 'USER' && principal.actor.id === request.subjectId;
  if (allowed && own && fresh && principal.amr.includes('mfa')) return;
  throw refuse(
    'STEP_UP_REQUIRED',
    'a one-time code or a fresh multi-factor step-up is required',
    request,
  );
};

/** Spends one of the request's attempts, then compares the code in constant time. */
const checkCode = async (
  deps: DeletionDeps,
  request: DeletionRequest,
  code: string,
): Promise<void> => {
  const reserved = await deps.requests.reserveConfirmationAttempt(
    request.id,
    deps.policy.maxConfirmAttempts,
  );
  if (!reserved)
    throw refuse('TOO_MANY_ATTEMPTS', 'too many wrong codes; request a new deletion', request);
  const hash = request.verification?.codeHash;
  if (hash !== undefined && deps.codes.matches(request.id, code, hash)) return;
  throw new DomainError({
    code: 'INVALID_ARGUMENT',
    reason: 'CODE_INVALID',
    message: 'the code is not valid for this request',
    metadata: { deletionRequest: request.id },
    fieldViolations: [{ field: 'code', description: 'does not match' }],
  });
};

/**
 * Confirms a REQUESTED request with its one-time code or a step-up token.
 * Errors: PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT (`CODE_INVALID`),
 * FAILED_PRECONDITION (`INVALID_STATE`, `CODE_EXPIRED`, `TOO_MANY_ATTEMPTS`, `STEP_UP_REQUIRED`).
 */
export const confirmDeletion =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: ConfirmDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'confirmDeletion');
    const input = parseInput(confirmDeletionInput, raw);
    const target = { id: input.name, reach, operation: 'confirmDeletion' } as const;
    const request = await loadRequest(deps.requests, target);
    if (request.state !== 'REQUESTED') throw invalidState('confirm', request.state, request.id);
    if (request.confirmExpireAt <= deps.clock.now()) {
      throw refuse(
        'CODE_EXPIRED',
        'the confirmation window is over; request a new deletion',
        request,
      );
    }
    let method: ConfirmationMethod = 'ONE_TIME_CODE';
    if (input.code === undefined) {
      assertStepUp(deps, principal, request);
      method = 'STEP_UP';
    } else {
      await checkCode(deps, request, input.code);
    }
    const confirmed = await mutateRequest(deps.requests, {
      ...target,
      change: (current) =>
        confirm(
          current,
          { method, gracePeriodMs: deps.policy.gracePeriodMs },
          { actor: principal.actor, now: deps.clock.now(), traceId: deps.trace.currentTraceId() },
        ),
    });
    if (!confirmed.accountSynced) await settleAccount(deps, confirmed.id);
    return confirmed;
  };
