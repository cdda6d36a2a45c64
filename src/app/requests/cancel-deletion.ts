import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { cancel, repeats } from '../../domain/lifecycle.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { cancelDeletionInput, parseInput, type CancelDeletionInput } from '../inputs.js';
import { mutateRequest } from './mutate-request.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Withdraws a request before it is scheduled (REQUESTED, AWAITING_APPROVAL).
 * Errors: PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION (`INVALID_STATE`), ABORTED.
 */
export const cancelDeletion =
  (deps: Pick<DeletionDeps, 'clock' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: CancelDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'cancelDeletion');
    const input = parseInput(cancelDeletionInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'cancelDeletion',
      etag: input.etag,
      repeated: (current) => repeats(current, principal.actor, 'cancel'),
      change: (current) => cancel(current, changeContextOf(deps, principal)),
    });
  };
