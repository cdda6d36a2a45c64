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

/**
 * The filters of a list as a page token carries them (short keys; '' when
 * not set, so a token older than a filter reads as one without it).
 */
type TokenFilter = Readonly<Record<'s' | 'u' | 'j' | 'l' | 'p' | 'd', string>>;

/**
 * Where the previous page of this list ended: the last request's creation
 * time (`c`), or its legal deadline (`t`) in a list by deadline, and its id.
 */
const listPosition = (raw: string, filter: TokenFilter): { at: Date; id: DeletionRequestId } => {
  if (filter.d === '') {
    const { c, i } = decodePageToken(raw, filter, { c: tokenTime, i: tokenId });
    return { at: new Date(c), id: i as DeletionRequestId };
  }
  const { t, i } = decodePageToken(raw, filter, { t: tokenTime, i: tokenId });
  return { at: new Date(t), id: i as DeletionRequestId };
};

/** The token after `last`, in the list's order. */
const tokenAfter = (last: DeletionRequest, filter: TokenFilter): string =>
  filter.d === ''
    ? encodePageToken({ c: last.createdAt.getTime(), i: last.id, ...filter })
    : encodePageToken({ t: last.legalDeadline.getTime(), i: last.id, ...filter });

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
 * Lists requests newest first with keyset pagination (AIP-158), so paging
 * stays stable while new requests arrive. Filters: state, subject,
 * jurisdiction, a linked service whose Erase step is not finished (waiting
 * on it, or failed there; `linkedServiceStep` narrows it to WAITING or
 * FAILED, as `stepSelection` defines them), and `deadlineBefore` (open requests whose legal
 * deadline is before it, listed soonest deadline first). A page token holds
 * its filters: another filter with it is INVALID_ARGUMENT. A caller limited
 * to their own subject sees only their own requests.
 * Errors: PERMISSION_DENIED, INVALID_ARGUMENT (bad input, bad or mismatched page token).
 */
export const listDeletionRequests =
  (deps: Pick<DeletionDeps, 'requests'>) =>
  async (principal: Principal, raw: ListDeletionRequestsInput): Promise<DeletionRequestPage> => {
    const reach = authorize(principal, 'listDeletionRequests');
    const input = parseInput(listDeletionRequestsInput, raw);
    const subjectId = subjectFilter(reach, input.subjectId);
    const filter: TokenFilter = {
      s: input.state ?? '',
      u: subjectId ?? '',
      j: input.jurisdiction ?? '',
      l: input.linkedService ?? '',
      p: input.linkedServiceStep ?? '',
      d: input.deadlineBefore === undefined ? '' : String(input.deadlineBefore.getTime()),
    };
    const limit = Math.min(input.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const rows = await deps.requests.list({
      state: input.state,
      subjectId,
      jurisdiction: input.jurisdiction,
      linkedService: input.linkedService,
      linkedServiceStep: input.linkedServiceStep,
      deadlineBefore: input.deadlineBefore,
      limit: limit + 1,
      after: input.pageToken ? listPosition(input.pageToken, filter) : undefined,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextPageToken = rows.length > limit && last ? tokenAfter(last, filter) : '';
    return { deletionRequests: page, nextPageToken };
  };
