import { preconditionFailed } from './domain-error.js';
import type { DeletionRequest } from './deletion-request.js';
import type { Principal } from './principal.js';

/** When a step-up token may stand in for the one-time code. */
export interface StepUpPolicy {
  readonly allowed: boolean;
  readonly maxAgeMs: number;
}

/**
 * A step-up confirms only when policy allows it and the token is the subject's
 * own user token, multi-factor (`amr` has `mfa`) and fresh (`auth_time` within
 * `maxAgeMs`). Throws FAILED_PRECONDITION `STEP_UP_REQUIRED` otherwise.
 */
export const assertStepUp = (
  principal: Principal,
  request: DeletionRequest,
  policy: StepUpPolicy & { readonly now: Date },
): void => {
  const fresh =
    principal.authTime !== null &&
    policy.now.getTime() - principal.authTime.getTime() <= policy.maxAgeMs;
  const own = principal.actor.kind === 'USER' && principal.ownSubjectId === request.subjectId;
  if (policy.allowed && own && fresh && principal.amr.includes('mfa')) return;
  throw preconditionFailed(
    'STEP_UP_REQUIRED',
    'a one-time code or a fresh multi-factor step-up is required',
    request.id,
  );
};
