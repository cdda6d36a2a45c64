import { authorize, type Reach } from '../../domain/authorization.js';
import { DomainError } from '../../domain/domain-error.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import {
  listDeletionRequestsInput,
  parseInput,
  type ListDeletionRequestsInput,
} from '../inputs.js';
import { decodePageToken, encodePageToken, tokenId, tokenTime } from '../common/page-token.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

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

/** One page of a list. */
export interface DeletionRequestPage {
  readonly deletionRequests: readonly DeletionRequest[];
  readonly nextPageToken: string;
}

/**
 * Lists requests newest first with keyset pagination (AIP-158). A caller
 * limited to their own subject sees only their own requests.
 * Errors: PERMISSION_DENIED, INVALID_ARGUMENT (bad or mismatched page token).
 */
export const listDeletionRequests =
  (deps: Pick<DeletionDeps, 'requests'>) =>
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
