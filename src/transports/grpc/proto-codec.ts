import type { Duration } from '../../gen/google/protobuf/duration.js';
import type { DeletionRequestPage } from '../../app/requests/list-deletion-requests.js';
import { etagOf, type DeletionRequest, type StateChange } from '../../domain/deletion-request.js';
import type { DeletionState } from '../../domain/deletion-state.js';
import { deletionRequestName } from '../../domain/ids.js';
import type { Actor } from '../../domain/principal.js';
import type { OwnerAlertStatus } from '../../domain/owner-alerts.js';
import {
  Actor_Kind,
  DeletionRequest as DeletionRequestMessage,
  DeletionRequest_ConfirmationMethod,
  DeletionRequest_State,
  OwnerAlert_Status,
  type Actor as ActorMessage,
  type StateChange as StateChangeMessage,
} from '../../gen/deletion/v1/deletion_request.js';
import type { ListDeletionRequestsResponse } from '../../gen/deletion/v1/deletion_service.js';
import { progressToProto } from './participant-codec.js';

const states: Readonly<Record<DeletionState, DeletionRequest_State>> = {
  REQUESTED: DeletionRequest_State.STATE_REQUESTED,
  AWAITING_APPROVAL: DeletionRequest_State.STATE_AWAITING_APPROVAL,
  SCHEDULED: DeletionRequest_State.STATE_SCHEDULED,
  RESTORED: DeletionRequest_State.STATE_RESTORED,
  CANCELLED: DeletionRequest_State.STATE_CANCELLED,
  REJECTED: DeletionRequest_State.STATE_REJECTED,
  EXPIRED: DeletionRequest_State.STATE_EXPIRED,
  ERASING: DeletionRequest_State.STATE_ERASING,
  COMPLETED: DeletionRequest_State.STATE_COMPLETED,
  NEEDS_ATTENTION: DeletionRequest_State.STATE_NEEDS_ATTENTION,
};

/** Domain state → proto state. */
export const stateToProto = (state: DeletionState): DeletionRequest_State => states[state];

/** Proto state → domain state; undefined for UNSPECIFIED (no filter). */
export const stateFromProto = (state: DeletionRequest_State): DeletionState | undefined =>
  (Object.keys(states) as DeletionState[]).find((key) => states[key] === state);

const actorKinds: Readonly<Record<Actor['kind'], Actor_Kind>> = {
  USER: Actor_Kind.KIND_USER,
  SERVICE: Actor_Kind.KIND_SERVICE,
  SYSTEM: Actor_Kind.KIND_SYSTEM,
};

export const actor = (value: Actor): ActorMessage => ({
  kind: actorKinds[value.kind],
  id: value.id,
});

const stateChange = (change: StateChange): StateChangeMessage => ({
  fromState: states[change.from],
  toState: states[change.to],
  actor: actor(change.actor),
  time: change.at,
  note: change.note,
  traceId: change.traceId,
});

const confirmationMethods = {
  ONE_TIME_CODE: DeletionRequest_ConfirmationMethod.CONFIRMATION_METHOD_ONE_TIME_CODE,
  STEP_UP: DeletionRequest_ConfirmationMethod.CONFIRMATION_METHOD_STEP_UP,
} as const;

/** Domain request → proto resource: an allow-list of fields, nothing else leaves. */
export const toProto = (request: DeletionRequest): DeletionRequestMessage =>
  DeletionRequestMessage.fromPartial({
    name: deletionRequestName(request.id),
    state: states[request.state],
    subjectId: request.subjectId,
    requester: actor(request.requester),
    reason: request.reason,
    riskReasons: [...request.riskReasons],
    createTime: request.createdAt,
    updateTime: request.updatedAt,
    confirmExpireTime: request.confirmExpireAt,
    confirmationMethod: request.confirmationMethod
      ? confirmationMethods[request.confirmationMethod]
      : DeletionRequest_ConfirmationMethod.CONFIRMATION_METHOD_UNSPECIFIED,
    deleteTime: request.deletedAt ?? undefined,
    purgeTime: request.purgeAt ?? undefined,
    completeTime: request.completedAt ?? undefined,
    finalNoticeTime: request.finalNotice?.sentAt ?? undefined,
    legalDeadline: request.legalDeadline,
    jurisdiction: request.jurisdiction,
    reviewer: request.reviewer ? actor(request.reviewer) : undefined,
    reviewNote: request.reviewNote ?? '',
    etag: etagOf(request),
    history: request.history.map(stateChange),
    createTraceId: request.createdIn.traceId,
    participants: Object.entries(request.participants).map(([name, step]) =>
      progressToProto(name, step),
    ),
    deadlineExtension: request.deadlineExtension
      ? {
          previousDeadline: request.deadlineExtension.previousDeadline,
          reason: request.deadlineExtension.reason,
          actor: actor(request.deadlineExtension.actor),
          extendTime: request.deadlineExtension.at,
          traceId: request.deadlineExtension.traceId,
        }
      : undefined,
    sentNotices: request.sentNotices.map((sent) => ({
      kind: sent.kind,
      outcome: sent.outcome,
      channel: sent.channel ?? '',
      messageId: sent.messageId ?? '',
      sendTime: sent.at,
    })),
    ownerAlerts: request.ownerAlerts.map((alert) => ({
      linkedService: alert.participant,
      team: alert.team,
      status: alertStatusToProto[alert.status],
      attempts: alert.attempts,
      oweTime: alert.owedAt,
      settleTime: alert.settledAt ?? undefined,
      traceId: alert.traceId,
    })),
  });

/** An owner alert's status as the proto enum names it (total: a new status does not compile). */
const alertStatusToProto: Readonly<Record<OwnerAlertStatus, OwnerAlert_Status>> = {
  OWED: OwnerAlert_Status.STATUS_OWED,
  SENT: OwnerAlert_Status.STATUS_SENT,
  GIVEN_UP: OwnerAlert_Status.STATUS_GIVEN_UP,
  NO_WEBHOOK: OwnerAlert_Status.STATUS_NO_WEBHOOK,
};

/** A page → ListDeletionRequestsResponse. */
export const toListResponse = (page: DeletionRequestPage): ListDeletionRequestsResponse => ({
  deletionRequests: page.deletionRequests.map(toProto),
  nextPageToken: page.nextPageToken,
});

/** Milliseconds (fractional too: a latency) as a google.protobuf.Duration, to the nanosecond. */
export const durationOf = (ms: number): Duration => {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1_000_000));
  return { seconds: String(seconds), nanos };
};

/** Proto3 sends '' for an unset string; the use cases take undefined. */
export const optional = (value: string): string | undefined => (value === '' ? undefined : value);
