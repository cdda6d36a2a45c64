import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { retryParticipant as retryStep } from '../../domain/participant-steps-admin.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { parseInput, retryParticipantInput, type RetryParticipantInput } from '../inputs.js';
import { mutateRequest } from '../requests/mutate-request.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Re-arms a failed linked-service step with a fresh budget; the purge resumes.
 * Errors: PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION (`STEP_NOT_FAILED`), ABORTED.
 */
export const retryParticipant =
  (deps: Pick<DeletionDeps, 'clock' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: RetryParticipantInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'retryParticipant');
    const input = parseInput(retryParticipantInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'retryParticipant',
      etag: input.etag,
      change: (current) => retryStep(current, input.participant, changeContextOf(deps, principal)),
    });
  };
