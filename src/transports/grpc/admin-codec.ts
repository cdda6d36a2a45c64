import type { AuditPage } from '../../app/admin/list-audit-events.js';
import type { AuditVerification } from '../../app/admin/verify-audit-log.js';
import type { ErasedSubjectAnswer } from '../../app/admin/check-erased-subjects.js';
import type { SafetyStatus } from '../../app/admin/erasure-breaker.js';
import type { ListAuditEventsInput } from '../../app/inputs.js';
import { auditKinds, type AuditKind } from '../../domain/audit-event.js';
import { deletionRequestName, type DeletionRequestId } from '../../domain/ids.js';
import {
  AuditEventKind,
  SafetyStatus_PauseReason,
  VerifyAuditLogResponse_Problem,
  type CheckErasedSubjectsResponse,
  type ListAuditEventsRequest,
  type ListAuditEventsResponse,
  type SafetyStatus as SafetyStatusMessage,
  type VerifyAuditLogResponse,
} from '../../gen/deletion/v1/deletion_service.js';
import { actor, durationOf, optional } from './proto-codec.js';

const kinds: Readonly<Record<AuditKind, AuditEventKind>> = {
  STATE_CHANGED: AuditEventKind.AUDIT_EVENT_KIND_STATE_CHANGED,
  PRIVILEGED_READ: AuditEventKind.AUDIT_EVENT_KIND_PRIVILEGED_READ,
  ADMIN_ACTION: AuditEventKind.AUDIT_EVENT_KIND_ADMIN_ACTION,
  ERASURES_PAUSED: AuditEventKind.AUDIT_EVENT_KIND_ERASURES_PAUSED,
  ERASURES_RESUMED: AuditEventKind.AUDIT_EVENT_KIND_ERASURES_RESUMED,
  KEY_DESTROYED: AuditEventKind.AUDIT_EVENT_KIND_KEY_DESTROYED,
  RECORD_SWEPT: AuditEventKind.AUDIT_EVENT_KIND_RECORD_SWEPT,
  PARTICIPANT_ANSWERED: AuditEventKind.AUDIT_EVENT_KIND_PARTICIPANT_ANSWERED,
  NOTICE_SENT: AuditEventKind.AUDIT_EVENT_KIND_NOTICE_SENT,
  OWNER_ALERTED: AuditEventKind.AUDIT_EVENT_KIND_OWNER_ALERTED,
};

/** The kind filter: none for UNSPECIFIED; a value this version does not know stays as it came, for the input check to refuse. */
const kindFromProto = (kind: AuditEventKind): AuditKind | undefined => {
  if (kind === AuditEventKind.AUDIT_EVENT_KIND_UNSPECIFIED) return undefined;
  return auditKinds.find((candidate) => kinds[candidate] === kind) ?? (String(kind) as AuditKind);
};

/** ListAuditEvents' request as the use case takes it. */
export const listAuditEventsFromProto = (
  request: ListAuditEventsRequest,
): ListAuditEventsInput => ({
  pageSize: request.pageSize,
  pageToken: optional(request.pageToken),
  kind: kindFromProto(request.kind),
  deletionRequest: optional(request.deletionRequest),
  subjectId: optional(request.subjectId),
  startTime: request.startTime,
  endTime: request.endTime,
});

export const toAuditPageProto = (page: AuditPage): ListAuditEventsResponse => ({
  auditEvents: page.auditEvents.map((event) => ({
    sequence: String(event.sequence),
    kind: kinds[event.kind],
    time: event.at,
    actor: actor(event.actor),
    deletionRequest:
      event.deletionRequestId === null
        ? ''
        : deletionRequestName(event.deletionRequestId as DeletionRequestId),
    subjectPseudonym: event.subjectPseudonym ?? '',
    details: { ...event.details },
    hash: event.hash,
    previousHash: event.previousHash,
  })),
  nextPageToken: page.nextPageToken,
});

const problems = {
  MISSING: VerifyAuditLogResponse_Problem.PROBLEM_MISSING,
  ALTERED: VerifyAuditLogResponse_Problem.PROBLEM_ALTERED,
  UNLINKED: VerifyAuditLogResponse_Problem.PROBLEM_UNLINKED,
} as const;

const completenessProto = ({ completeness }: AuditVerification) => ({
  complete: completeness.complete,
  requestsChecked: String(completeness.requests),
  eventsExpected: String(completeness.expected),
  eventsOwed: String(completeness.owed),
  gapCount: String(completeness.gapCount),
  gaps: completeness.gaps.map((gap) => ({
    deletionRequest: deletionRequestName(gap.deletionRequestId as DeletionRequestId),
    key: gap.key,
    kind: kinds[gap.kind],
    what: gap.what,
    time: gap.at,
  })),
});

export const toVerdictProto = (verdict: AuditVerification): VerifyAuditLogResponse =>
  verdict.intact
    ? {
        intact: true,
        events: String(verdict.events),
        firstBadSequence: '0',
        problem: VerifyAuditLogResponse_Problem.PROBLEM_UNSPECIFIED,
        ...completenessProto(verdict),
      }
    : {
        intact: false,
        events: String(verdict.events),
        firstBadSequence: String(verdict.firstBadSequence),
        problem: problems[verdict.problem],
        ...completenessProto(verdict),
      };

const pauseReasons = {
  TOTAL_LIMIT: SafetyStatus_PauseReason.PAUSE_REASON_TOTAL_LIMIT,
  REQUESTER_LIMIT: SafetyStatus_PauseReason.PAUSE_REASON_REQUESTER_LIMIT,
} as const;

export const toSafetyProto = (status: SafetyStatus): SafetyStatusMessage => ({
  paused: status.paused !== null,
  reason:
    status.paused === null
      ? SafetyStatus_PauseReason.PAUSE_REASON_UNSPECIFIED
      : pauseReasons[status.paused.reason],
  pauseTime: status.paused?.at,
  requester: status.paused?.requester ?? '',
  startedInWindow: status.startedInWindow,
  limit: status.policy.limit,
  requesterLimit: status.policy.requesterLimit,
  window: durationOf(status.policy.windowMs),
  resumeTime: status.resumed?.at,
  resumedBy: status.resumed ? actor(status.resumed.by) : undefined,
});

export const toErasedSubjectsProto = (
  answers: readonly ErasedSubjectAnswer[],
): CheckErasedSubjectsResponse => ({
  erasedSubjects: answers.map((answer) => ({
    subjectId: answer.subjectId,
    deletionRequest: deletionRequestName(answer.deletionRequestId),
    eraseTime: answer.erasedAt,
  })),
});
