import { checkStretch, GENESIS_HASH, type AuditVerdict } from '../domain/audit-event.js';
import type { Operation } from '../domain/authorization.js';
import { addedChanges, type DeletionRequest } from '../domain/deletion-request.js';
import type { SubjectId } from '../domain/ids.js';
import { isSubjectItself, type Principal } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import type { AuditLog, AuditSeal, DeletionRequestRepository } from './ports.js';

/**
 * How the audit log names a request's subject: its keyed pseudonym, which a
 * request cut down by the retention sweep already holds in place of the id
 * (hashing it again would name another subject).
 */
export const subjectPseudonymOf = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: Pick<DeletionRequest, 'subjectId' | 'retention'>,
): string => (request.retention === null ? pseudonymOf(request.subjectId) : request.subjectId);

/** Where state changes are audited, with the subject only as its pseudonym. */
export interface TransitionAudit {
  readonly log: AuditLog;
  readonly pseudonymOf: (subjectId: SubjectId) => string;
  readonly onFailure: (error: unknown, request: DeletionRequest) => void;
}

/** Appends one STATE_CHANGED event per state change `next` made on top of `previous`. */
const appendTransitions = async (
  audit: Pick<TransitionAudit, 'log' | 'pseudonymOf'>,
  previous: DeletionRequest,
  next: DeletionRequest,
): Promise<void> => {
  const pseudonym = subjectPseudonymOf(audit.pseudonymOf, next);
  for (const { change, index } of addedChanges(previous, next)) {
    await audit.log.append({
      kind: 'STATE_CHANGED',
      at: change.at,
      // The subject acting on their own request appears as their pseudonym too.
      actor: isSubjectItself(change.actor, next.subjectId)
        ? { kind: 'USER', id: pseudonym }
        : change.actor,
      deletionRequestId: next.id,
      subjectPseudonym: pseudonym,
      details: { from: change.from, to: change.to, note: change.note, traceId: change.traceId },
      // The n-th change of a request is audited once, whoever appends it.
      key: `${next.id}#change#${String(index)}`,
    });
  }
};

/**
 * The repository, appending every state change it stores to the audit log,
 * by the writer that won the version. A failed append is reported to
 * `onFailure` (the write stands, the caller is not failed for it).
 */
export const auditTransitions = (
  requests: DeletionRequestRepository,
  audit: TransitionAudit,
): DeletionRequestRepository => ({
  ...requests,
  update: async (next, previous) => {
    const written = await requests.update(next, previous);
    if (written)
      await appendTransitions(audit, previous, next).catch((error: unknown) => {
        audit.onFailure(error, next);
      });
    return written;
  },
});

const PAGE = 500;

/**
 * Walks the whole chain in pages: every sequence present once, in order, each
 * event's keyed hash right and naming the one before, and nothing missing up
 * to the recorded head (a cut-off tail). Returns the first broken link.
 */
export const verifyAuditChain = async (log: AuditLog, seal: AuditSeal): Promise<AuditVerdict> => {
  let previous = { sequence: 0, hash: GENESIS_HASH };
  for (;;) {
    const page = await log.read(previous.sequence, PAGE);
    const { broken, last } = checkStretch(page, previous, (content) => seal.mac(content));
    if (broken !== null)
      return {
        intact: false,
        events: last.sequence,
        firstBadSequence: broken.sequence,
        problem: broken.problem,
      };
    previous = last;
    if (page.length < PAGE) break;
  }
  if ((await log.head()) > previous.sequence)
    return {
      intact: false,
      events: previous.sequence,
      firstBadSequence: previous.sequence + 1,
      problem: 'MISSING',
    };
  return { intact: true, events: previous.sequence };
};

/**
 * Records that a caller read beyond their own data (DESIGN §4: privileged
 * reads are audited). Awaited, and a failure fails the read: nothing is shown
 * that the log does not record.
 */
export const auditPrivilegedRead = (
  deps: Pick<DeletionDeps, 'audit' | 'clock' | 'pseudonymOf' | 'ids'>,
  principal: Principal,
  read: {
    readonly operation: Operation;
    readonly deletionRequestId?: string;
    /** The subject, by id, or by pseudonym when that is all the request holds. */
    readonly subjectId?: SubjectId;
    readonly subjectPseudonym?: string;
    readonly details?: Readonly<Record<string, string>>;
  },
): Promise<void> =>
  deps.audit.log.append({
    kind: 'PRIVILEGED_READ',
    at: deps.clock.now(),
    actor: principal.actor,
    deletionRequestId: read.deletionRequestId ?? null,
    subjectPseudonym:
      read.subjectPseudonym ??
      (read.subjectId === undefined ? null : deps.pseudonymOf(read.subjectId)),
    details: { operation: read.operation, ...read.details },
    // Every read is its own event.
    key: `read#${deps.ids.newEventId()}`,
  });
