import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { resolveParticipant as resolveStep } from '../../domain/participant-steps-admin.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { parseInput, resolveParticipantInput, type ResolveParticipantInput } from '../inputs.js';
import { mutateRequest } from '../requests/mutate-request.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Records a manual erasure of a failed or waiting step, with a justification;
 * the purge resumes. Errors: PERMISSION_DENIED (also `SELF_RESOLUTION`),
 * NOT_FOUND, FAILED_PRECONDITION (`STEP_NOT_OPEN`), ABORTED.
 */
export const resolveParticipant =
  (deps: Pick<DeletionDeps, 'clock' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: ResolveParticipantInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'resolveParticipant');
    const input = parseInput(resolveParticipantInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'resolveParticipant',
      etag: input.etag,
      change: (current) =>
        resolveStep(
          current,
          {
            participant: input.participant,
            justification: input.justification,
            records: input.records,
          },
          changeContextOf(deps, principal),
        ),
    });
  };
