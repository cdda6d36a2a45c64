import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { reject, repeats } from '../../domain/lifecycle.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { parseInput, rejectDeletionInput, type RejectDeletionInput } from '../inputs.js';
import { mutateRequest } from './mutate-request.js';
import { oweNotices } from '../notices/owe-notices.js';
import { changeContextOf } from '../common/change-context.js';

/** Rejects a high-risk request. Errors as approveDeletion. */
export const rejectDeletion =
  (deps: Pick<DeletionDeps, 'clock' | 'participants' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: RejectDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'rejectDeletion');
    const input = parseInput(rejectDeletionInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'rejectDeletion',
      etag: input.etag,
      repeated: (current) => repeats(current, principal.actor, 'reject'),
      change: (current) =>
        oweNotices(deps, reject(current, input.reason, changeContextOf(deps, principal))),
    });
  };
