import { isDeepStrictEqual } from 'node:util';
import type {
  AuditRecords,
  DeletionRequestRepository,
  InsertOutcome,
  ListQuery,
  RequestFilter,
} from '../../../src/app/ports/deletion-request-repository.js';
import { stepSelection, type LinkedServiceStep } from '../../../src/domain/linked-service-step.js';
import type { SubjectCipher } from '../../../src/app/ports/subject-keys.js';
import { auditDueAt, settledAlerts } from '../../../src/domain/audit-marks.js';
import { owedDueAt, type DeletionRequest } from '../../../src/domain/deletion-request.js';
import {
  deletionStates,
  isActive,
  isTerminal,
  openStates,
  type DeletionState,
} from '../../../src/domain/deletion-state.js';
import { deletionRequestConflict, versionSkipped } from '../../../src/domain/domain-error.js';
import type { DeletionRequestId, SubjectId } from '../../../src/domain/ids.js';
import { contactFrom, contactOf, hasAddress, type Contact } from '../../../src/domain/notices.js';
import { outageSwitch, type Outage } from './store-away.js';
import { fakeSubjectCipher, fakeSubjectKeyStore } from './subject-keys.js';

/** A request as the fake holds it: its personal data blank, and sealed apart. */
interface Stored {
  readonly request: DeletionRequest;
  readonly sealed: Readonly<Record<string, string>> | null;
}

/** The terminal states in which nothing was erased (the subject's key lives on). */
const closedWithoutErasure = deletionStates.filter(
  (state) => isTerminal(state) && state !== 'COMPLETED',
);

/** The final notice's contact when it holds an address (a locale alone is no personal data). */
const addressOf = (request: DeletionRequest): Contact | null => {
  const contact = request.finalNotice?.contact ?? null;
  return contact !== null && hasAddress(contact) ? contact : null;
};

/** The subject's personal data in a request; null once the request records its key as destroyed. */
const personalDataOf = (request: DeletionRequest): Record<string, string> | null => {
  if (request.subjectKeyDestroyedAt !== null) return null;
  const contact = addressOf(request);
  const { reviewNote, deadlineExtension } = request;
  return {
    ...(request.reason !== '' && { reason: request.reason }),
    ...(reviewNote !== null && reviewNote !== '' && { reviewNote }),
    ...(contact !== null && { contact: JSON.stringify(contactOf(contact)) }),
    ...(deadlineExtension !== null &&
      deadlineExtension.reason !== '' && { extensionReason: deadlineExtension.reason }),
  };
};

/** The request with its personal data blank (an owed extension notice takes its reason from the extension). */
const withoutPersonalData = (request: DeletionRequest): DeletionRequest => ({
  ...request,
  reason: '',
  reviewNote: null,
  finalNotice:
    request.finalNotice && addressOf(request) !== null
      ? { ...request.finalNotice, contact: null }
      : request.finalNotice,
  deadlineExtension: request.deadlineExtension && { ...request.deadlineExtension, reason: '' },
  outbox: request.outbox.map((owed) =>
    owed.notice.kind === 'DEADLINE_EXTENDED'
      ? { ...owed, notice: { ...owed.notice, reason: '' } }
      : owed,
  ),
});

/** The contact of a final notice whose key is gone: no address left. */
const SHREDDED_CONTACT: Contact = contactFrom({});

/** The entries of `after` that extend `before`, when `before` is its prefix; null otherwise. */
const appended = (before: unknown, after: unknown): unknown[] | null => {
  if (!Array.isArray(before) || !Array.isArray(after) || after.length <= before.length) return null;
  return before.every((entry: unknown, index) => isDeepStrictEqual(entry, after[index]))
    ? after.slice(before.length)
    : null;
};

/** Fields of nested records each stored apart (a change sets only the parts that changed). */
const PART_FIELDS: ReadonlySet<string> = new Set(['audited', 'createdIn', 'participants']);

/** What the change from `previous` to `next` makes of one field of `stored`. */
const changedField = (
  field: string,
  values: { readonly stored: unknown; readonly previous: unknown; readonly next: unknown },
): unknown => {
  const { stored, previous, next } = values;
  const grown = field === 'audited' ? null : appended(previous, next);
  if (grown !== null && Array.isArray(stored)) return [...(stored as unknown[]), ...grown];
  if (!PART_FIELDS.has(field) || typeof next !== 'object' || next === null) return next;
  const before = (previous ?? {}) as Record<string, unknown>;
  const after = next as Record<string, unknown>;
  if (!Object.keys(before).every((key) => key in after)) return next;
  const changed = Object.keys(after).filter((key) => !isDeepStrictEqual(before[key], after[key]));
  return {
    ...(stored as Record<string, unknown>),
    ...Object.fromEntries(changed.map((key) => [key, after[key]])),
  };
};

/**
 * `stored` with what changed from `previous` to `next`: the fields that
 * changed (by part, for the audit marks, the trace and the linked services),
 * the lists that only grew by their new entries. A field the change left as
 * `previous` had it keeps what is stored.
 */
const applyChange = (
  stored: DeletionRequest,
  previous: DeletionRequest,
  next: DeletionRequest,
): DeletionRequest => {
  const result = { ...stored } as Record<string, unknown>;
  const was = previous as unknown as Record<string, unknown>;
  const now = next as unknown as Record<string, unknown>;
  for (const field of Object.keys(now)) {
    if (field === 'id' || isDeepStrictEqual(was[field], now[field])) continue;
    result[field] = changedField(field, {
      stored: result[field],
      previous: was[field],
      next: now[field],
    });
  }
  return result as unknown as DeletionRequest;
};

const byTime =
  (timeOf: (request: DeletionRequest) => Date | null) =>
  (a: DeletionRequest, b: DeletionRequest): number =>
    (timeOf(a)?.getTime() ?? 0) - (timeOf(b)?.getTime() ?? 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The stored idempotency key: a request without one has a key only it has. */
const idempotencyKeyOf = (request: DeletionRequest): string =>
  request.idempotencyKey ?? `none:${request.id}`;

/** Deletion requests in memory. */
export interface FakeDeletionRequestRepository extends DeletionRequestRepository, Outage {
  /** Every stored request as a reader gets it, in insertion order. */
  all(): Promise<DeletionRequest[]>;
}

/**
 * A fake repository with the real one's semantics: one active request per
 * subject and one per idempotency key; every change guarded by the version
 * and applied as what changed from `previous`; the subject's personal data
 * sealed with `cipher` (absent on read once the subject's key is gone, and
 * dropped once the request records it destroyed); confirmation attempts
 * counted for good. Queries sort like the database (ties by id).
 */
export const fakeDeletionRequestRepository = (
  cipher: SubjectCipher = fakeSubjectCipher(fakeSubjectKeyStore()),
): FakeDeletionRequestRepository => {
  const requests = new Map<DeletionRequestId, Stored>();
  const attempts = new Map<string, number>();
  const outage = outageSwitch();
  const seal = async (request: DeletionRequest): Promise<Stored['sealed']> => {
    const plain = personalDataOf(request);
    if (plain === null || Object.keys(plain).length === 0) return null;
    return cipher.seal(request.subjectId, request.id, plain);
  };
  const open = async ({ request, sealed }: Stored): Promise<DeletionRequest> => {
    const copy = structuredClone(request);
    const opened = sealed === null ? undefined : await cipher.open(copy.subjectId, copy.id, sealed);
    const extension = copy.deadlineExtension && {
      ...copy.deadlineExtension,
      reason: opened?.extensionReason ?? '',
    };
    const contact = opened?.contact;
    const read: DeletionRequest =
      sealed === null
        ? copy
        : {
            ...copy,
            reason: opened?.reason ?? copy.reason,
            reviewNote: opened?.reviewNote ?? null,
            deadlineExtension: extension,
            finalNotice:
              copy.finalNotice && sealed.contact !== undefined
                ? {
                    ...copy.finalNotice,
                    contact:
                      contact === undefined
                        ? SHREDDED_CONTACT
                        : contactFrom(JSON.parse(contact) as Record<string, unknown>),
                  }
                : copy.finalNotice,
          };
    return {
      ...read,
      outbox: read.outbox.map((owed) =>
        owed.notice.kind === 'DEADLINE_EXTENDED'
          ? { ...owed, notice: { ...owed.notice, reason: read.deadlineExtension?.reason ?? '' } }
          : owed,
      ),
    };
  };
  const select = (
    keep: (request: DeletionRequest) => boolean,
    order: (a: DeletionRequest, b: DeletionRequest) => number,
    limit: number,
  ): Promise<DeletionRequest[]> =>
    Promise.all(
      [...requests.values()]
        .filter(({ request }) => keep(request))
        .sort((a, b) => order(a.request, b.request))
        .slice(0, Math.max(0, limit))
        .map(open),
    );
  const find = async (keep: (request: DeletionRequest) => boolean) => {
    const found = [...requests.values()].find(({ request }) => keep(request));
    return found === undefined ? null : open(found);
  };
  const activeOf = (subjectId: SubjectId, except?: DeletionRequestId) =>
    [...requests.values()].some(
      ({ request }) =>
        request.id !== except && request.subjectId === subjectId && isActive(request.state),
    );
  const refusal = (request: DeletionRequest): InsertOutcome | null => {
    const key = request.idempotencyKey;
    const idempotencyTaken =
      key !== null && [...requests.values()].some(({ request: r }) => r.idempotencyKey === key);
    const activeTaken = activeOf(request.subjectId);
    if (!idempotencyTaken && !(isActive(request.state) && activeTaken) && !requests.has(request.id))
      return null;
    if (idempotencyTaken) return { kind: 'DUPLICATE_IDEMPOTENCY_KEY' };
    if (activeTaken) return { kind: 'DUPLICATE_ACTIVE_SUBJECT' };
    throw deletionRequestConflict('CONCURRENT_INSERT', request.id);
  };
  const isOpen = (request: DeletionRequest) => openStates.includes(request.state);
  const matches = (request: DeletionRequest, filter: RequestFilter): boolean => {
    const { linkedService } = filter;
    const step = linkedService === undefined ? undefined : request.participants[linkedService];
    const { statuses, states } = stepSelection(filter.linkedServiceStep);
    return (
      (filter.jurisdiction === undefined || request.jurisdiction === filter.jurisdiction) &&
      (linkedService === undefined ||
        (step !== undefined &&
          statuses.includes(step.status) &&
          (states === undefined || states.includes(request.state))))
    );
  };
  return {
    setDown: outage.setDown,
    all: () => Promise.all([...requests.values()].map(open)),
    insert: (request) =>
      outage.guard(async () => {
        const refused = refusal(request);
        if (refused !== null) return refused;
        const sealed = await seal(request);
        // Sealing waited for the key: another insert may have got in meanwhile.
        const late = refusal(request);
        if (late !== null) return late;
        requests.set(request.id, {
          request: structuredClone(withoutPersonalData(request)),
          sealed,
        });
        return { kind: 'INSERTED' };
      }),
    findById: (id, scope) =>
      outage.guard(() =>
        find(
          (request) =>
            request.id === id && (scope === undefined || request.subjectId === scope.subjectId),
        ),
      ),
    findByIdempotencyKey: (key) =>
      outage.guard(() => find((request) => idempotencyKeyOf(request) === key)),
    findActiveBySubject: (subjectId) =>
      outage.guard(() =>
        find((request) => request.subjectId === subjectId && isActive(request.state)),
      ),
    remove: (id, expectedVersion) =>
      outage.guard(() => {
        if (requests.get(id)?.request.version !== expectedVersion) return false;
        return requests.delete(id);
      }),
    update: (next, previous) =>
      outage.guard(async () => {
        if (next.version !== previous.version + 1) throw versionSkipped();
        const changed = !isDeepStrictEqual(personalDataOf(previous), personalDataOf(next));
        const sealed = changed ? await seal(next) : undefined;
        const stored = requests.get(next.id);
        if (stored?.request.version !== previous.version) return false;
        const request = applyChange(
          stored.request,
          withoutPersonalData(previous),
          withoutPersonalData(next),
        );
        if (isActive(request.state) && activeOf(request.subjectId, request.id))
          throw deletionRequestConflict('DELETION_ALREADY_ACTIVE', next.id);
        requests.set(next.id, {
          request: structuredClone(request),
          sealed: sealed === undefined ? stored.sealed : sealed,
        });
        return true;
      }),
    reserveConfirmationAttempt: (id, maxAttempts) =>
      outage.guard(() => {
        const spent = attempts.get(id) ?? 0;
        if (spent >= maxAttempts) return false;
        attempts.set(id, spent + 1);
        return true;
      }),
    list: (query: ListQuery) =>
      outage.guard(() => {
        const { after, deadlineBefore } = query;
        const sortTime = (request: DeletionRequest) =>
          deadlineBefore === undefined ? request.createdAt : request.legalDeadline;
        // Newest first by creation; soonest first by deadline.
        const direction = deadlineBefore === undefined ? -1 : 1;
        const order = (a: DeletionRequest, b: DeletionRequest) =>
          direction * byTime(sortTime)(a, b);
        const beyond = (request: DeletionRequest, last: NonNullable<ListQuery['after']>) => {
          const diff = sortTime(request).getTime() - last.at.getTime();
          const ids = request.id < last.id ? -1 : request.id > last.id ? 1 : 0;
          return direction * (diff === 0 ? ids : diff) > 0;
        };
        return select(
          (request) =>
            matches(request, query) &&
            (query.state === undefined || request.state === query.state) &&
            (query.subjectId === undefined || request.subjectId === query.subjectId) &&
            (deadlineBefore === undefined ||
              (isOpen(request) && request.legalDeadline < deadlineBefore)) &&
            (after === undefined || beyond(request, after)),
          order,
          query.limit,
        );
      }),
    count: (query) =>
      outage.guard(() => {
        const taken = [...requests.values()]
          .map(({ request }) => request)
          .filter((request) => matches(request, query));
        const byState: Partial<Record<DeletionState, number>> = {};
        for (const request of taken) byState[request.state] = (byState[request.state] ?? 0) + 1;
        const open = taken.filter(isOpen);
        return {
          byState,
          pastDeadline: open.filter((request) => request.legalDeadline < query.now).length,
          dueSoon: open.filter(
            (request) =>
              request.legalDeadline >= query.now && request.legalDeadline < query.dueBefore,
          ).length,
        };
      }),
    countByLinkedService: (names) =>
      outage.guard(() => {
        const all = [...requests.values()].map(({ request }) => request);
        const at = (name: string, step: LinkedServiceStep) => (request: DeletionRequest) =>
          matches(request, {
            jurisdiction: undefined,
            linkedService: name,
            linkedServiceStep: step,
          });
        return Object.fromEntries(
          names.map((name) => [
            name,
            {
              waiting: all.filter(at(name, 'WAITING')).length,
              needingAttention: all
                .filter(at(name, 'FAILED'))
                .filter((request) => request.state === 'NEEDS_ATTENTION').length,
            },
          ]),
        );
      }),
    findDueForErasure: (now, limit) =>
      outage.guard(() =>
        select(
          (request) =>
            (request.state === 'SCHEDULED' && request.purgeAt !== null && request.purgeAt <= now) ||
            (request.state === 'ERASING' &&
              request.leaseUntil !== null &&
              request.leaseUntil <= now),
          byTime((request) => request.purgeAt),
          limit,
        ),
      ),
    findNoticesDue: (now, limit) =>
      outage.guard(() =>
        select(
          (request) => {
            const outboxDue = owedDueAt(request);
            return (
              (request.notices !== null && request.notices.dueAt <= now) ||
              (outboxDue !== null && outboxDue <= now)
            );
          },
          byTime((request) => request.updatedAt),
          limit,
        ),
      ),
    findExpired: (now, limit) =>
      outage.guard(() =>
        select(
          (request) => request.state === 'REQUESTED' && request.confirmExpireAt <= now,
          byTime((request) => request.confirmExpireAt),
          limit,
        ),
      ),
    findUnsynced: (before, limit) =>
      outage.guard(() =>
        select(
          (request) => !request.accountSynced && request.updatedAt <= before,
          byTime((request) => request.updatedAt),
          limit,
        ),
      ),
    countOpen: (deadlineBefore) =>
      outage.guard(() => {
        const open = [...requests.values()].map(({ request }) => request).filter(isOpen);
        const byState: Partial<Record<DeletionState, number>> = {};
        for (const request of open) byState[request.state] = (byState[request.state] ?? 0) + 1;
        return {
          byState,
          nearDeadline: open.filter((request) => request.legalDeadline < deadlineBefore).length,
        };
      }),
    findNearDeadline: (before, limit) =>
      outage.guard(() =>
        select(
          (request) => isOpen(request) && request.legalDeadline < before,
          byTime((request) => request.legalDeadline),
          limit,
        ),
      ),
    findRetentionDue: (closedBefore, limit) =>
      outage.guard(() =>
        select(
          (request) =>
            request.retention?.snapshotsPruned === false ||
            (request.retention === null &&
              request.updatedAt <= closedBefore &&
              owedDueAt(request) === null &&
              auditDueAt(request) === null &&
              request.notices === null &&
              request.accountSynced &&
              ((request.state === 'COMPLETED' && request.subjectKeyDestroyedAt !== null) ||
                closedWithoutErasure.includes(request.state))),
          byTime((request) => request.updatedAt),
          limit,
        ),
      ),
    pruneSnapshots: () => outage.guard(() => undefined),
    findUnshredded: (limit) =>
      outage.guard(() =>
        select(
          (request) => request.state === 'COMPLETED' && request.subjectKeyDestroyedAt === null,
          byTime((request) => request.completedAt),
          limit,
        ),
      ),
    findAuditDue: (before, limit) =>
      outage.guard(() =>
        select(
          (request) => {
            const due = auditDueAt(request);
            return due !== null && due <= before;
          },
          byTime(auditDueAt),
          limit,
        ),
      ),
    listAuditRecords: (afterId, limit) =>
      outage.guard(() =>
        [...requests.values()]
          .map(({ request }) => request)
          .filter((request) => request.id > afterId)
          .sort((a, b) => (a.id < b.id ? -1 : 1))
          .slice(0, Math.max(0, limit))
          .map((request): AuditRecords => ({
            id: request.id,
            changes: request.history.map(({ from, to, at }) => ({ from, to, at })),
            audited: structuredClone(request.audited),
            answers: Object.entries(request.participants).flatMap(([participant, step]) =>
              step.outcome === null
                ? []
                : [{ participant, outcome: step.outcome.kind, at: step.updatedAt }],
            ),
            notices: request.sentNotices.map(({ key, at }) => ({ key, at })),
            alerts: settledAlerts(request).map(({ participant, at }) => ({ participant, at })),
          })),
      ),
  };
};
