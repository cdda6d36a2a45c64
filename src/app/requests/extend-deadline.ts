import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { extendDeadline as extend } from '../../domain/lifecycle.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { extendDeadlineInput, parseInput, type ExtendDeadlineInput } from '../inputs.js';
import { mutateRequest } from './mutate-request.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Extends an open request's legal deadline once, by what its jurisdiction
 * allows, with the reason the subject is told (the notice is owed in the same
 * write). Errors: PERMISSION_DENIED (also `SELF_EXTENSION`), NOT_FOUND,
 * FAILED_PRECONDITION (`INVALID_STATE`, `ALREADY_EXTENDED`, `DEADLINE_PASSED`),
 * ABORTED (`ETAG_MISMATCH`).
 */
export const extendDeadline =
  (deps: Pick<DeletionDeps, 'clock' | 'policy' | 'requests' | 'trace'>) =>
  async (principal: Principal, raw: ExtendDeadlineInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'extendDeadline');
    const input = parseInput(extendDeadlineInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'extendDeadline',
      etag: input.etag,
      change: (current) =>
        extend(
          current,
          { reason: input.reason, clocks: deps.policy.legalClocks },
          changeContextOf(deps, principal),
        ),
    });
  };
