import { auditDueAt, isServiceAnswer, type AuditMarks } from '../../domain/audit-marks.js';
import { owedDueAt, type DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import { contactFrom } from '../../domain/notices.js';
import type { Actor } from '../../domain/principal.js';
import type { ErasureOutcome, ParticipantStep } from '../../domain/erasure-steps.js';
import type { OutboxNotice, OwedNotice } from '../../domain/subject-notice.js';
import {
  activeKeyOf,
  type OwedNoticeDocument,
  idempotencyKeyOf,
  storedIdempotencyKey,
  type DeletionRequestDocument,
  type ParticipantStepDocument,
} from './deletion-request-model.js';

const actor = (a: Actor): Actor => ({ kind: a.kind, id: a.id });

const outcomeToDocument = (o: ErasureOutcome): NonNullable<ParticipantStepDocument['outcome']> => {
  switch (o.kind) {
    case 'ERASED':
      return { kind: o.kind, records: o.records, categories: [...o.categories] };
    case 'NOTHING_FOUND':
      return { kind: o.kind };
    case 'RETAINED':
      return {
        kind: o.kind,
        legalBasis: o.legalBasis,
        categories: [...o.categories],
        until: o.until,
        erasedRecords: o.erasedRecords,
      };
    case 'MANUAL':
      return {
        kind: o.kind,
        records: o.records,
        justification: o.justification,
        resolvedBy: o.resolvedBy,
      };
  }
};

const outcomeToDomain = (o: NonNullable<ParticipantStepDocument['outcome']>): ErasureOutcome => {
  switch (o.kind) {
    case 'ERASED':
      return { kind: o.kind, records: o.records ?? 0, categories: o.categories ?? [] };
    case 'NOTHING_FOUND':
      return { kind: o.kind };
    case 'RETAINED':
      return {
        kind: o.kind,
        legalBasis: o.legalBasis ?? '',
        categories: o.categories ?? [],
        until: o.until ?? null,
        erasedRecords: o.erasedRecords ?? 0,
      };
    case 'MANUAL':
      return {
        kind: o.kind,
        records: o.records ?? 0,
        justification: o.justification ?? '',
        resolvedBy: o.resolvedBy ?? '',
      };
  }
};

const stepToDocument = (step: ParticipantStep): ParticipantStepDocument => ({
  status: step.status,
  attempts: step.attempts,
  lastErrorCode: step.lastErrorCode,
  nextAttemptAt: step.nextAttemptAt,
  expectedBy: step.expectedBy,
  outcome: step.outcome && outcomeToDocument(step.outcome),
  updatedAt: step.updatedAt,
});

const stepToDomain = (step: ParticipantStepDocument): ParticipantStep => ({
  status: step.status,
  attempts: step.attempts,
  lastErrorCode: step.lastErrorCode ?? null,
  nextAttemptAt: step.nextAttemptAt ?? null,
  expectedBy: step.expectedBy ?? null,
  outcome: step.outcome ? outcomeToDomain(step.outcome) : null,
  updatedAt: step.updatedAt,
});

/**
 * The stored form of a request; `activeKey` and the idempotency key are
 * derived here. Personal data is still in the clear: the repository seals it
 * (sealed-personal-data.ts) before anything is written.
 */
export const toDocument = (r: DeletionRequest): DeletionRequestDocument => ({
  _id: r.id,
  subjectId: r.subjectId,
  requester: actor(r.requester),
  reason: r.reason,
  state: r.state,
  version: r.version,
  riskReasons: [...r.riskReasons],
  jurisdiction: r.jurisdiction,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  confirmExpireAt: r.confirmExpireAt,
  confirmationMethod: r.confirmationMethod,
  verification: r.verification && { codeHash: r.verification.codeHash },
  deletedAt: r.deletedAt,
  purgeAt: r.purgeAt,
  completedAt: r.completedAt,
  legalDeadline: r.legalDeadline,
  deadlineExtension: r.deadlineExtension && {
    ...r.deadlineExtension,
    actor: actor(r.deadlineExtension.actor),
  },
  reviewer: r.reviewer && actor(r.reviewer),
  reviewNote: r.reviewNote,
  accountSynced: r.accountSynced,
  report: r.report && { ...r.report },
  notices: r.notices && { ...r.notices, pending: [...r.notices.pending] },
  localErasure: r.localErasure && { ...r.localErasure },
  finalNotice: r.finalNotice && {
    ...r.finalNotice,
    contact: r.finalNotice.contact && { ...r.finalNotice.contact },
  },
  outbox: r.outbox.map(owedToDocument),
  ownerAlerts: r.ownerAlerts.map((alert) => ({ ...alert })),
  outboxDueAt: owedDueAt(r),
  noticesOwed: r.notices !== null || owedDueAt(r) !== null,
  keyToShred: r.state === 'COMPLETED' && r.subjectKeyDestroyedAt === null,
  sentNotices: r.sentNotices.map((sent) => ({ ...sent })),
  subjectKeyDestroyedAt: r.subjectKeyDestroyedAt,
  retention: r.retention && { ...r.retention },
  sealed: null,
  participants: Object.fromEntries(
    Object.entries(r.participants).map(([name, step]) => [name, stepToDocument(step)]),
  ),
  leaseOwner: r.leaseOwner,
  leaseUntil: r.leaseUntil,
  idempotencyKey: storedIdempotencyKey(r.id, r.idempotencyKey),
  requestFingerprint: r.requestFingerprint,
  createTraceId: r.createdIn.traceId,
  createSpanId: r.createdIn.spanId,
  history: r.history.map((c) => ({
    from: c.from,
    to: c.to,
    actor: actor(c.actor),
    at: c.at,
    note: c.note,
    traceId: c.traceId,
    spanId: c.spanId,
  })),
  auditedThrough: r.audited.changes,
  auditedNotices: r.audited.notices,
  auditedAnswers: [...r.audited.answers],
  auditedAlerts: [...r.audited.alerts],
  auditDueAt: auditDueAt(r),
  activeKey: activeKeyOf(r),
});

const owedToDocument = ({
  key,
  notice,
  attempts,
  owedAt,
  dueAt,
}: OwedNotice): OwedNoticeDocument => ({
  key,
  kind: notice.kind,
  attempts,
  owedAt,
  dueAt,
  deadline: 'deadline' in notice ? notice.deadline : null,
  purgeAt: 'purgeAt' in notice ? notice.purgeAt : null,
  // The extension's reason is personal enough to seal: the outbox takes it from the extension when read.
  reason: null,
});

/** A stored owed notice; one missing the facts of its kind is dropped (it cannot be rendered). */
const owedToDomain =
  (deletionRequestId: DeletionRequestId, extensionReason: string) =>
  (d: OwedNoticeDocument): OwedNotice[] => {
    const notice = ((): OutboxNotice | null => {
      switch (d.kind) {
        case 'RECEIPT':
          return d.deadline && { kind: d.kind, deletionRequestId, deadline: d.deadline };
        case 'SCHEDULED':
          return d.purgeAt && { kind: d.kind, deletionRequestId, purgeAt: d.purgeAt };
        case 'DEADLINE_EXTENDED':
          return (
            d.deadline && {
              kind: d.kind,
              deletionRequestId,
              deadline: d.deadline,
              reason: d.reason ?? extensionReason,
            }
          );
        case 'AWAITING_APPROVAL':
        case 'REJECTED':
        case 'RESTORED':
          return { kind: d.kind, deletionRequestId };
        case 'CONFIRMATION_CODE':
        case 'COMPLETED':
          return null;
      }
    })();
    return notice === null
      ? []
      : [{ key: d.key, notice, attempts: d.attempts, owedAt: d.owedAt ?? d.dueAt, dueAt: d.dueAt }];
  };

/** A stored request as the domain entity. */
export const toDomain = (d: DeletionRequestDocument): DeletionRequest => ({
  id: d._id as DeletionRequestId,
  subjectId: d.subjectId as SubjectId,
  requester: actor(d.requester),
  reason: d.reason,
  state: d.state,
  version: d.version,
  riskReasons: [...d.riskReasons],
  jurisdiction: d.jurisdiction,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  confirmExpireAt: d.confirmExpireAt,
  confirmationMethod: d.confirmationMethod,
  verification: d.verification && { codeHash: d.verification.codeHash },
  deletedAt: d.deletedAt,
  purgeAt: d.purgeAt,
  completedAt: d.completedAt,
  legalDeadline: d.legalDeadline,
  deadlineExtension: d.deadlineExtension
    ? {
        previousDeadline: d.deadlineExtension.previousDeadline,
        reason: d.deadlineExtension.reason,
        actor: actor(d.deadlineExtension.actor),
        at: d.deadlineExtension.at,
        traceId: d.deadlineExtension.traceId,
      }
    : null,
  reviewer: d.reviewer && actor(d.reviewer),
  reviewNote: d.reviewNote,
  accountSynced: d.accountSynced,
  report: d.report ? { ...d.report } : null,
  notices: d.notices ? { ...d.notices, pending: [...d.notices.pending] } : null,
  localErasure: d.localErasure ? { ...d.localErasure } : null,
  finalNotice: d.finalNotice
    ? { ...d.finalNotice, contact: d.finalNotice.contact && contactFrom(d.finalNotice.contact) }
    : null,
  outbox: (d.outbox ?? []).flatMap(
    owedToDomain(d._id as DeletionRequestId, d.deadlineExtension?.reason ?? ''),
  ),
  sentNotices: (d.sentNotices ?? []).map((sent) => ({ ...sent })),
  ownerAlerts: (d.ownerAlerts ?? []).map((alert) => ({
    participant: alert.participant,
    team: alert.team,
    reason: alert.reason ?? null,
    traceId: alert.traceId,
    owedAt: alert.owedAt,
    status: alert.status,
    attempts: alert.attempts,
    dueAt: alert.dueAt ?? null,
    settledAt: alert.settledAt ?? null,
  })),
  subjectKeyDestroyedAt: d.subjectKeyDestroyedAt ?? null,
  retention: d.retention
    ? {
        sweptAt: d.retention.sweptAt,
        reportSha256: d.retention.reportSha256 ?? null,
        snapshotsPruned: d.retention.snapshotsPruned,
      }
    : null,
  participants: Object.fromEntries(
    Object.entries(d.participants ?? {}).map(([name, step]) => [name, stepToDomain(step)]),
  ),
  leaseOwner: d.leaseOwner,
  leaseUntil: d.leaseUntil,
  idempotencyKey: idempotencyKeyOf(d._id, d.idempotencyKey),
  requestFingerprint: d.requestFingerprint,
  createdIn: { traceId: d.createTraceId ?? '', spanId: d.createSpanId ?? '' },
  history: d.history.map((c) => ({
    from: c.from,
    to: c.to,
    actor: actor(c.actor),
    at: c.at,
    note: c.note,
    traceId: c.traceId,
    // Stored before span ids were kept: no span to link to.
    spanId: c.spanId ?? '',
  })),
  audited: auditMarksOf(d),
});

/**
 * The audit marks a stored request records. A document written before notices
 * and answers had marks (no `auditedNotices`) was written when they were
 * audited only with a completion, or not at all (see the log's
 * `facts_audited_since`): they count as in; so do the changes of one written
 * when every change was appended at once (no `auditedThrough`).
 */
export const auditMarksOf = (
  d: Pick<
    DeletionRequestDocument,
    | 'history'
    | 'auditedThrough'
    | 'auditedNotices'
    | 'auditedAnswers'
    | 'auditedAlerts'
    | 'participants'
    | 'sentNotices'
  >,
): AuditMarks => ({
  changes: d.auditedThrough ?? d.history.length,
  notices: d.auditedNotices ?? (d.sentNotices ?? []).length,
  answers:
    d.auditedNotices === undefined
      ? Object.entries(d.participants ?? {}).flatMap(([participant, step]) =>
          step.outcome === null || !isServiceAnswer(step.outcome.kind) ? [] : [participant],
        )
      : [...(d.auditedAnswers ?? [])],
  // Alerts to owners came after every other mark: a document without it has none settled.
  alerts: [...(d.auditedAlerts ?? [])],
});
