import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { approve, repeats } from '../../domain/lifecycle.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { approveDeletionInput, parseInput, type ApproveDeletionInput } from '../inputs.js';
import { mutateRequest } from './mutate-request.js';
import { oweNotices } from '../notices/owe-notices.js';
import { settleAccount } from '../worker/settle-account.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Approves a high-risk request; it is soft-deleted at once.
 * Errors: PERMISSION_DENIED (also `SELF_APPROVAL`), NOT_FOUND,
 * FAILED_PRECONDITION (`INVALID_STATE`), ABORTED (`ETAG_MISMATCH`).
 */
export const approveDeletion =
  (
    deps: Pick<
      DeletionDeps,
      'accounts' | 'clock' | 'participants' | 'policy' | 'requests' | 'trace'
    >,
  ) =>
  async (principal: Principal, raw: ApproveDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'approveDeletion');
    const input = parseInput(approveDeletionInput, raw);
    const approved = await mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'approveDeletion',
      etag: input.etag,
      repeated: (current) => repeats(current, principal.actor, 'approve'),
      change: (current) =>
        oweNotices(
          deps,
          approve(
            current,
            { gracePeriodMs: deps.policy.gracePeriodMs },
            changeContextOf(deps, principal),
          ),
        ),
    });
    return (await settleAccount(deps, approved)) ?? approved;
  };
