import type { AuditPage } from '../../app/admin/list-audit-events.js';
import type { AuditVerification } from '../../app/admin/verify-audit-log.js';
import type { ErasedSubjectAnswer } from '../../app/admin/check-erased-subjects.js';
import type { SafetyStatus } from '../../app/admin/erasure-breaker.js';
import type { AuditKind } from '../../domain/audit-event.js';
import type { PauseReason } from '../../domain/erasure-breaker.js';
import { deletionRequestName, type DeletionRequestId } from '../../domain/ids.js';
import { actorView, time, type ActorView } from './deletion-view.js';

/** An audit event, as the gRPC `AuditEvent`; details decrypted. */
export interface AuditEventView {
  readonly sequence: number;
  readonly kind: AuditKind;
  readonly time: string;
  readonly actor: ActorView;
  readonly deletionRequest: string | null;
  readonly subjectPseudonym: string | null;
  readonly details: Readonly<Record<string, string>>;
  readonly hash: string;
  readonly previousHash: string;
}

/** A page of the audit log. */
export interface AuditPageView {
  readonly auditEvents: readonly AuditEventView[];
  readonly nextPageToken: string;
}

/** The audit log's verification, as the gRPC `VerifyAuditLogResponse`: the chain, then completeness. */
export type AuditVerificationView =
  | { readonly intact: true; readonly events: number; readonly completeness: CompletenessView }
  | {
      readonly intact: false;
      readonly events: number;
      readonly firstBadSequence: number;
      readonly problem: 'MISSING' | 'ALTERED' | 'UNLINKED';
      readonly completeness: CompletenessView;
    };

/** Whether every change, final answer and notice requests record has its event; the gaps named. */
export interface CompletenessView {
  readonly complete: boolean;
  readonly requestsChecked: number;
  readonly eventsExpected: number;
  readonly eventsOwed: number;
  readonly gapCount: number;
  readonly gaps: readonly {
    readonly deletionRequest: string;
    readonly key: string;
    readonly kind: AuditKind;
    readonly what: string;
    readonly time: string;
  }[];
}

export const toVerificationView = (verification: AuditVerification): AuditVerificationView => {
  const { completeness: c, ...verdict } = verification;
  return {
    ...verdict,
    completeness: {
      complete: c.complete,
      requestsChecked: c.requests,
      eventsExpected: c.expected,
      eventsOwed: c.owed,
      gapCount: c.gapCount,
      gaps: c.gaps.map((gap) => ({
        deletionRequest: deletionRequestName(gap.deletionRequestId as DeletionRequestId),
        key: gap.key,
        kind: gap.kind,
        what: gap.what,
        time: gap.at.toISOString(),
      })),
    },
  };
};

/** The mass-deletion breaker, as the gRPC `SafetyStatus`. */
export interface SafetyStatusView {
  readonly paused: boolean;
  readonly reason: PauseReason | null;
  readonly pauseTime: string | null;
  readonly requester: string | null;
  readonly startedInWindow: number;
  readonly limit: number;
  readonly requesterLimit: number;
  readonly windowSeconds: number;
  readonly resumeTime: string | null;
  readonly resumedBy: ActorView | null;
}

/** A subject the asking linked service must erase (again). */
export interface ErasedSubjectView {
  readonly subjectId: string;
  readonly deletionRequest: string;
  readonly eraseTime: string;
}

export const toAuditPageView = (page: AuditPage): AuditPageView => ({
  auditEvents: page.auditEvents.map((event) => ({
    sequence: event.sequence,
    kind: event.kind,
    time: event.at.toISOString(),
    actor: actorView(event.actor),
    deletionRequest:
      event.deletionRequestId === null
        ? null
        : deletionRequestName(event.deletionRequestId as DeletionRequestId),
    subjectPseudonym: event.subjectPseudonym,
    details: { ...event.details },
    hash: event.hash,
    previousHash: event.previousHash,
  })),
  nextPageToken: page.nextPageToken,
});

export const toSafetyView = (status: SafetyStatus): SafetyStatusView => ({
  paused: status.paused !== null,
  reason: status.paused?.reason ?? null,
  pauseTime: time(status.paused?.at),
  requester: status.paused?.requester ?? null,
  startedInWindow: status.startedInWindow,
  limit: status.policy.limit,
  requesterLimit: status.policy.requesterLimit,
  windowSeconds: Math.floor(status.policy.windowMs / 1000),
  resumeTime: time(status.resumed?.at),
  resumedBy: status.resumed ? actorView(status.resumed.by) : null,
});

export const toErasedSubjectsView = (
  answers: readonly ErasedSubjectAnswer[],
): { readonly erasedSubjects: readonly ErasedSubjectView[] } => ({
  erasedSubjects: answers.map((answer) => ({
    subjectId: answer.subjectId,
    deletionRequest: deletionRequestName(answer.deletionRequestId),
    eraseTime: answer.erasedAt.toISOString(),
  })),
});
