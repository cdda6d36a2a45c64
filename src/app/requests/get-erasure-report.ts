import { authorize } from '../../domain/authorization.js';
import { preconditionFailed } from '../../domain/domain-error.js';
import type { SignedErasureReport } from '../../domain/erasure-report.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { getDeletionRequestInput, parseInput, type GetDeletionRequestInput } from '../inputs.js';
import { loadRequest } from './load-request.js';

/**
 * The signed report of a completed erasure. Errors: PERMISSION_DENIED (also
 * for a missing id when limited to one's own), NOT_FOUND, FAILED_PRECONDITION
 * (`NOT_COMPLETED`; `RECORD_SWEPT` once the retention period dropped it, it named the subject).
 */
export const getErasureReport =
  (deps: Pick<DeletionDeps, 'requests'>) =>
  async (principal: Principal, raw: GetDeletionRequestInput): Promise<SignedErasureReport> => {
    const reach = authorize(principal, 'getErasureReport');
    const input = parseInput(getDeletionRequestInput, raw);
    const request = await loadRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'getErasureReport',
    });
    if (request.state === 'COMPLETED' && request.report !== null) return request.report;
    if (request.state === 'COMPLETED' && request.retention !== null)
      throw preconditionFailed(
        'RECORD_SWEPT',
        'the report was dropped with the rest of the subject’s data after the retention period; its SHA-256 is kept',
        request.id,
      );
    throw preconditionFailed('NOT_COMPLETED', 'the erasure is not completed yet', request.id);
  };
