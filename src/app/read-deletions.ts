import { authorize, type Reach } from '../domain/authorization.js';
import { DomainError, preconditionFailed } from '../domain/domain-error.js';
import type { DeletionRequest } from '../domain/deletion-request.js';
import type { SignedErasureReport } from '../domain/erasure-report.js';
import type { DeletionRequestId, SubjectId } from '../domain/ids.js';
import type { Principal } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import {
  getDeletionRequestInput,
  listDeletionRequestsInput,
  parseInput,
  type GetDeletionRequestInput,
  type ListDeletionRequestsInput,
} from './inputs.js';
import { loadRequest } from './load-request.js';
import { decodePageToken, encodePageToken, tokenId, tokenTime } from './page-token.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/** Reads one request. Errors: PERMISSION_DENIED (also for a missing id when limited to one's own), NOT_FOUND. */
export const getDeletionRequest =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: GetDeletionRequestInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'getDeletionRequest');
    const input = parseInput(getDeletionRequestInput, raw);
    return loadRequest(deps.requests, { id: input.name, reach, operation: 'getDeletionRequest' });
  };

/** One page of a list. */
export interface DeletionRequestPage {
  readonly deletionRequests: readonly DeletionRequest[];
  readonly nextPageToken: string;
}

/** Where the previous page of this list ended: the last request's creation time and id. */
const listPosition = (raw: string, filter: { s: string; u: string }) =>
  decodePageToken(raw, filter, { c: tokenTime, i: tokenId });

const subjectFilter = (reach: Reach, asked: SubjectId | undefined): SubjectId | undefined => {
  if (reach.kind === 'ANY') return asked;
  if (asked === undefined || asked === reach.subjectId) return reach.subjectId as SubjectId;
  throw new DomainError({
    code: 'PERMISSION_DENIED',
    reason: 'PERMISSION_DENIED',
    message: 'not allowed to listDeletionRequests',
    metadata: { operation: 'listDeletionRequests' },
  });
};

/**
 * Lists requests newest first with keyset pagination (AIP-158). A caller
 * limited to their own subject sees only their own requests.
 * Errors: PERMISSION_DENIED, INVALID_ARGUMENT (bad or mismatched page token).
 */
export const listDeletionRequests =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: ListDeletionRequestsInput): Promise<DeletionRequestPage> => {
    const reach = authorize(principal, 'listDeletionRequests');
    const input = parseInput(listDeletionRequestsInput, raw);
    const subjectId = subjectFilter(reach, input.subjectId);
    const filter = { s: input.state ?? '', u: subjectId ?? '' };
    const token = input.pageToken ? listPosition(input.pageToken, filter) : undefined;
    const limit = Math.min(input.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const rows = await deps.requests.list({
      state: input.state,
      subjectId,
      limit: limit + 1,
      after: token && { createdAt: new Date(token.c), id: token.i as DeletionRequestId },
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken =
      rows.length > limit && last
        ? encodePageToken({ c: last.createdAt.getTime(), i: last.id, ...filter })
        : '';
    return { deletionRequests: page, nextPageToken };
  };

/**
 * The signed report of a completed erasure. Errors: PERMISSION_DENIED (also
 * for a missing id when limited to one's own), NOT_FOUND, FAILED_PRECONDITION
 * (`NOT_COMPLETED`; `RECORD_SWEPT` once the retention period dropped it, it named the subject).
 */
export const getErasureReport =
  (deps: DeletionDeps) =>
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
