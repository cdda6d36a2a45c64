import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { getDeletionRequestInput, parseInput, type GetDeletionRequestInput } from '../inputs.js';
import { loadRequest } from './load-request.js';

/** Reads one request. Errors: PERMISSION_DENIED (also for a missing id when limited to one's own), NOT_FOUND. */
export const getDeletionRequest =
  (deps: Pick<DeletionDeps, 'requests'>) =>
  async (principal: Principal, raw: GetDeletionRequestInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'getDeletionRequest');
    const input = parseInput(getDeletionRequestInput, raw);
    return loadRequest(deps.requests, { id: input.name, reach, operation: 'getDeletionRequest' });
  };
