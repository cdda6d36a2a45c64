import { type AuditEvent } from '../../domain/audit-event.js';
import { authorize } from '../../domain/authorization.js';
import { invalidArgument } from '../../domain/domain-error.js';
import type { Principal } from '../../domain/principal.js';
import { auditPrivilegedRead } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { listAuditEventsInput, parseInput, type ListAuditEventsInput } from '../inputs.js';
import { decodePageToken, encodePageToken, tokenCount } from '../common/page-token.js';

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** An audit event as an administrator reads it: its details opened. */
export type AuditRecord = Omit<AuditEvent, 'sealedDetails'> & {
  readonly details: Readonly<Record<string, string>>;
};

/** One page of the audit log. */
export interface AuditPage {
  readonly auditEvents: readonly AuditRecord[];
  readonly nextPageToken: string;
}

/**
 * Lists audit events in chain order, filtered (the subject by its pseudonym),
 * with their details decrypted; the listing is itself audited.
 * Errors: PERMISSION_DENIED, INVALID_ARGUMENT (bad filter or page token).
 */
export const listAuditEvents =
  (deps: Pick<DeletionDeps, 'audit' | 'clock' | 'ids' | 'pseudonymOf'>) =>
  async (principal: Principal, raw: ListAuditEventsInput): Promise<AuditPage> => {
    authorize(principal, 'listAuditEvents');
    const input = parseInput(listAuditEventsInput, raw);
    if (input.startTime && input.endTime && input.startTime >= input.endTime)
      throw invalidArgument([{ field: 'endTime', description: 'must be after startTime' }]);
    const filter = {
      kind: input.kind,
      deletionRequestId: input.deletionRequest,
      subjectPseudonym: input.subjectId && deps.pseudonymOf(input.subjectId),
      from: input.startTime,
      until: input.endTime,
    };
    const query = { q: JSON.stringify(filter) };
    const after = input.pageToken
      ? decodePageToken(input.pageToken, query, { a: tokenCount }).a
      : 0;
    const limit = Math.min(input.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const rows = await deps.audit.log.list(filter, after, limit + 1);
    const page = rows.slice(0, limit);
    await auditPrivilegedRead(deps, principal, {
      operation: 'listAuditEvents',
      details: { events: String(page.length) },
    });
    const last = page.at(-1);
    return {
      auditEvents: page.map(({ sealedDetails, ...event }) => ({
        ...event,
        details: deps.audit.seal.open(sealedDetails),
      })),
      nextPageToken:
        rows.length > limit && last ? encodePageToken({ a: last.sequence, ...query }) : '',
    };
  };
