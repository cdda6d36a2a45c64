import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { repeats, undelete } from '../../domain/lifecycle.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import {
  parseInput,
  undeleteDeletionRequestInput,
  type UndeleteDeletionRequestInput,
} from '../inputs.js';
import { mutateRequest } from './mutate-request.js';
import { oweNotices } from '../notices/owe-notices.js';
import { settleAccount } from '../worker/settle-account.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Restores a soft-deleted account within its grace period; its sessions stay revoked.
 * Errors: PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION (`INVALID_STATE`,
 * `GRACE_PERIOD_OVER`), ABORTED.
 */
export const undeleteDeletionRequest =
  (deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'participants' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: UndeleteDeletionRequestInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'undeleteDeletionRequest');
    const input = parseInput(undeleteDeletionRequestInput, raw);
    const restored = await mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'undeleteDeletionRequest',
      etag: input.etag,
      repeated: (current) => repeats(current, principal.actor, 'undelete'),
      change: (current) => oweNotices(deps, undelete(current, changeContextOf(deps, principal))),
    });
    return (await settleAccount(deps, restored)) ?? restored;
  };
