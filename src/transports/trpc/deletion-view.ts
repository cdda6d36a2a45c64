import type { DeletionRequestPage } from '../../app/requests/list-deletion-requests.js';
import type { DeletionEvent } from '../../app/requests/watch-deletion-request.js';
import {
  etagOf,
  type ConfirmationMethod,
  type DeletionRequest,
  type StateChange,
} from '../../domain/deletion-request.js';
import type { DeletionState } from '../../domain/deletion-state.js';
import type { ErasureOutcome, ParticipantStep, StepStatus } from '../../domain/erasure-steps.js';
import { deletionRequestName } from '../../domain/ids.js';
import type { Actor } from '../../domain/principal.js';
import type { SentNotice, SubjectNoticeKind } from '../../domain/subject-notice.js';
import type { OwnerAlertStatus } from '../../domain/owner-alerts.js';

/** Who acted: ids only. */
export interface ActorView {
  readonly kind: Actor['kind'];
  readonly id: string;
}

/** One transition, as the gRPC `StateChange`. Times are RFC 3339 strings. */
export interface StateChangeView {
  readonly fromState: DeletionState;
  readonly toState: DeletionState;
  readonly actor: ActorView;
  readonly time: string;
  /** A short machine-readable note, e.g. `CONFIRMED_WITH_CODE`. */
  readonly note: string;
  /** The W3C trace id in which it happened. */
  readonly traceId: string;
}

/** A final answer to Erase. */
export type OutcomeView =
  | { readonly kind: 'ERASED'; readonly records: number; readonly categories: readonly string[] }
  | { readonly kind: 'NOTHING_FOUND' }
  | {
      readonly kind: 'RETAINED';
      readonly legalBasis: string;
      readonly categories: readonly string[];
      readonly until: string | null;
      readonly erasedRecords: number;
    }
  | {
      readonly kind: 'MANUAL';
      readonly records: number;
      readonly justification: string;
      readonly resolvedBy: string;
    };

/** One linked service's progress through Erase. */
export interface ParticipantProgressView {
  readonly participant: string;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly lastErrorCode: string | null;
  readonly nextAttemptTime: string | null;
  readonly expectedBy: string | null;
  readonly outcome: OutcomeView | null;
  readonly updateTime: string;
}

/**
 * A deletion request as tRPC callers see it: the fields of the gRPC resource,
 * with the same names, times as RFC 3339 strings and `null` for unset ones.
 * Never the code hash, the subject's contact, leases or idempotency keys.
 */
export interface DeletionRequestView {
  readonly name: string;
  readonly state: DeletionState;
  readonly subjectId: string;
  readonly requester: ActorView;
  readonly reason: string;
  readonly riskReasons: readonly string[];
  readonly createTime: string;
  readonly updateTime: string;
  readonly confirmExpireTime: string;
  readonly confirmationMethod: ConfirmationMethod | null;
  readonly deleteTime: string | null;
  readonly purgeTime: string | null;
  readonly completeTime: string | null;
  readonly finalNoticeTime: string | null;
  readonly legalDeadline: string;
  readonly jurisdiction: string;
  readonly reviewer: ActorView | null;
  readonly reviewNote: string | null;
  readonly etag: string;
  readonly history: readonly StateChangeView[];
  /** The trace the request was made in (W3C trace id, hex; '' when unknown). */
  readonly createTraceId: string;
  readonly participants: readonly ParticipantProgressView[];
  /** The one extension of `legalDeadline`, when an administrator made it. */
  readonly deadlineExtension: DeadlineExtensionView | null;
  /** What the subject was told (or could not be), oldest first; never the address. */
  readonly sentNotices: readonly SentNoticeView[];
  /** The alerts to linked services' owning teams it called for, one per service. */
  readonly ownerAlerts: readonly OwnerAlertView[];
}

/** An alert to the team that owns a linked service the request needed attention because of. */
export interface OwnerAlertView {
  readonly linkedService: string;
  readonly team: string;
  readonly status: OwnerAlertStatus;
  readonly attempts: number;
  readonly oweTime: string;
  readonly settleTime: string | null;
  readonly traceId: string;
}

/** The one extension of a request's legal deadline. */
export interface DeadlineExtensionView {
  readonly previousDeadline: string;
  readonly reason: string;
  readonly actor: ActorView;
  readonly extendTime: string;
  readonly traceId: string;
}

/** A notice to the subject that went (`SENT`) or was given up on (`UNDELIVERABLE`). */
export interface SentNoticeView {
  readonly kind: SubjectNoticeKind;
  readonly outcome: SentNotice['outcome'];
  readonly channel: string | null;
  readonly messageId: string | null;
  readonly sendTime: string;
}

/** A page of requests, newest first; `nextPageToken` is '' on the last page. */
export interface DeletionRequestPageView {
  readonly deletionRequests: readonly DeletionRequestView[];
  readonly nextPageToken: string;
}

/** One event of a watched request; `request` is the request as it is now. */
export type DeletionEventView =
  | { readonly kind: 'SNAPSHOT'; readonly request: DeletionRequestView }
  | {
      readonly kind: 'STATE_CHANGED';
      readonly change: StateChangeView;
      readonly request: DeletionRequestView;
    }
  | {
      readonly kind: 'PARTICIPANT_CHANGED';
      readonly participant: ParticipantProgressView;
      readonly request: DeletionRequestView;
    }
  /**
   * The last event of a stream the server ends because it is shutting down:
   * the client reconnects (the subscription link does so by itself) and
   * resumes after the last event it had, on another replica.
   */
  | { readonly kind: 'RECONNECT'; readonly reason: 'SERVER_SHUTTING_DOWN' };

export const time = (value: Date | null | undefined): string | null => value?.toISOString() ?? null;

export const actorView = (actor: Actor): ActorView => ({ kind: actor.kind, id: actor.id });

const changeView = (change: StateChange): StateChangeView => ({
  fromState: change.from,
  toState: change.to,
  actor: actorView(change.actor),
  time: change.at.toISOString(),
  note: change.note,
  traceId: change.traceId,
});

const outcomeView = (outcome: ErasureOutcome): OutcomeView => {
  switch (outcome.kind) {
    case 'ERASED':
      return { kind: 'ERASED', records: outcome.records, categories: [...outcome.categories] };
    case 'NOTHING_FOUND':
      return { kind: 'NOTHING_FOUND' };
    case 'RETAINED':
      return {
        kind: 'RETAINED',
        legalBasis: outcome.legalBasis,
        categories: [...outcome.categories],
        until: time(outcome.until),
        erasedRecords: outcome.erasedRecords,
      };
    case 'MANUAL':
      return {
        kind: 'MANUAL',
        records: outcome.records,
        justification: outcome.justification,
        resolvedBy: outcome.resolvedBy,
      };
  }
};

const progressView = (participant: string, step: ParticipantStep): ParticipantProgressView => ({
  participant,
  status: step.status,
  attempts: step.attempts,
  lastErrorCode: step.lastErrorCode,
  nextAttemptTime: time(step.nextAttemptAt),
  expectedBy: time(step.expectedBy),
  outcome: step.outcome === null ? null : outcomeView(step.outcome),
  updateTime: step.updatedAt.toISOString(),
});

/** Domain request → view: an allow-list of fields, nothing else leaves. */
export const toView = (request: DeletionRequest): DeletionRequestView => ({
  name: deletionRequestName(request.id),
  state: request.state,
  subjectId: request.subjectId,
  requester: actorView(request.requester),
  reason: request.reason,
  riskReasons: [...request.riskReasons],
  createTime: request.createdAt.toISOString(),
  updateTime: request.updatedAt.toISOString(),
  confirmExpireTime: request.confirmExpireAt.toISOString(),
  confirmationMethod: request.confirmationMethod,
  deleteTime: time(request.deletedAt),
  purgeTime: time(request.purgeAt),
  completeTime: time(request.completedAt),
  finalNoticeTime: time(request.finalNotice?.sentAt),
  legalDeadline: request.legalDeadline.toISOString(),
  jurisdiction: request.jurisdiction,
  reviewer: request.reviewer === null ? null : actorView(request.reviewer),
  reviewNote: request.reviewNote,
  etag: etagOf(request),
  history: request.history.map(changeView),
  createTraceId: request.createdIn.traceId,
  participants: Object.entries(request.participants).map(([name, step]) =>
    progressView(name, step),
  ),
  deadlineExtension: request.deadlineExtension && {
    previousDeadline: request.deadlineExtension.previousDeadline.toISOString(),
    reason: request.deadlineExtension.reason,
    actor: actorView(request.deadlineExtension.actor),
    extendTime: request.deadlineExtension.at.toISOString(),
    traceId: request.deadlineExtension.traceId,
  },
  sentNotices: request.sentNotices.map((sent) => ({
    kind: sent.kind,
    outcome: sent.outcome,
    channel: sent.channel,
    messageId: sent.messageId,
    sendTime: sent.at.toISOString(),
  })),
  ownerAlerts: request.ownerAlerts.map((alert) => ({
    linkedService: alert.participant,
    team: alert.team,
    status: alert.status,
    attempts: alert.attempts,
    oweTime: alert.owedAt.toISOString(),
    settleTime: time(alert.settledAt),
    traceId: alert.traceId,
  })),
});

/** A page → its view. */
export const toPageView = (page: DeletionRequestPage): DeletionRequestPageView => ({
  deletionRequests: page.deletionRequests.map(toView),
  nextPageToken: page.nextPageToken,
});

/** A watch event → its view. */
export const toEventView = (event: DeletionEvent): DeletionEventView => {
  const request = toView(event.request);
  switch (event.kind) {
    case 'SNAPSHOT':
      return { kind: 'SNAPSHOT', request };
    case 'STATE_CHANGED':
      return { kind: 'STATE_CHANGED', change: changeView(event.change), request };
    case 'PARTICIPANT_CHANGED':
      return {
        kind: 'PARTICIPANT_CHANGED',
        participant: progressView(event.participant, event.step),
        request,
      };
  }
};
