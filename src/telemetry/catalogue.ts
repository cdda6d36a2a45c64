/**
 * Every span, event, attribute and metric name the service emits, in one
 * place: what an SRE searches by. Values are ids, codes, names and counts,
 * never personal data (a subject never appears in clear). Code that traces or
 * measures takes its names from here; a test checks that every span a full
 * deletion produces is named here.
 */
import type { SubjectNoticeKind } from '../domain/subject-notice.js';

/**
 * The span of a use case, a child of the RPC span: `deletion.` and the use
 * case's name in snake case (`deletion.request_deletion`,
 * `deletion.get_safety_status`), so a new use case is named without an entry here.
 */
export const useCaseSpan = (useCase: string): string =>
  `deletion.${useCase.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`;

/** Spans of the steps inside use cases and worker passes. */
export const stepSpans = {
  /** Checking the one-time code or the step-up token of a confirmation. */
  verify: 'deletion.verify',
  /** Soft delete: the account deactivated, its sessions and tokens revoked. */
  softDelete: 'deletion.soft_delete',
  /** Undelete: the account active again. */
  reactivate: 'deletion.reactivate',
  /** Erasing the account's own data (account, sessions, tokens). */
  eraseLocal: 'deletion.erase_local',
  /** One Erase call to one linked service, with its attempt number and outcome. */
  participantErase: 'participant.erase',
  participantSuspend: 'participant.suspend',
  participantRestore: 'participant.restore',
  /** A notice to the subject, one name per kind (see {@link noticeSpans}). */
  noticeReceipt: 'notice.receipt',
  noticeConfirmationCode: 'notice.confirmation_code',
  noticeScheduled: 'notice.scheduled',
  noticeAwaitingApproval: 'notice.awaiting_approval',
  noticeRejected: 'notice.rejected',
  noticeRestored: 'notice.restored',
  noticeDeadlineExtended: 'notice.deadline_extended',
  noticeErasureCompleted: 'notice.erasure_completed',
  /** Destroying the subject's data key after completion (crypto-shredding). */
  shredKey: 'deletion.shred_key',
  /** One delivery of an alert to the webhook of a linked service's owning team. */
  ownerAlert: 'owner.alert',
} as const;

/** The span of sending each kind of notice. */
export const noticeSpans: Readonly<Record<SubjectNoticeKind, string>> = {
  RECEIPT: stepSpans.noticeReceipt,
  CONFIRMATION_CODE: stepSpans.noticeConfirmationCode,
  SCHEDULED: stepSpans.noticeScheduled,
  AWAITING_APPROVAL: stepSpans.noticeAwaitingApproval,
  REJECTED: stepSpans.noticeRejected,
  RESTORED: stepSpans.noticeRestored,
  DEADLINE_EXTENDED: stepSpans.noticeDeadlineExtended,
  COMPLETED: stepSpans.noticeErasureCompleted,
};

/**
 * Root spans of worker steps: each a trace of its own, linked to the traces
 * of the request's life so far.
 */
export const workerSpans = {
  expire: 'deletion.expire',
  settle: 'deletion.settle',
  /**
   * Suspend and Restore calls to linked services, then notices to the subject, then alerts to
   * linked services' owners: what is owed and due.
   */
  sendOwed: 'deletion.send_owed',
  purge: 'deletion.purge',
  shred: 'deletion.shred',
} as const;

/** A database call: `persistence.<collection>.<operation>`, or `persistence.<operation>`. */
export const persistenceSpan = (...path: readonly string[]): string =>
  ['persistence', ...path].join('.');

/** An RPC, served or made, named like instrumentation-grpc's: `<system>.<service>/<method>`. */
export const rpcSpan = (system: 'grpc' | 'trpc', service: string, method: string): string =>
  `${system}.${service}/${method}`;

/** The services whose RPCs have spans. */
export const rpcServices = {
  deletion: 'deletion.v1.DeletionService',
  participant: 'deletion.participant.v1.ErasureParticipantService',
} as const;

/** Events on the active span. */
export const spanEvents = {
  /** A linked-service call failed and will be tried again after a back-off. */
  retryScheduled: 'participant.retry_scheduled',
  /** A linked-service call failed past its budget: the request needs attention. */
  gaveUp: 'participant.gave_up',
  /** The mass-deletion breaker tripped on this erasure: erasures are paused. */
  erasuresPaused: 'deletion.erasures_paused',
} as const;

/**
 * Attribute keys (the OpenTelemetry RPC conventions, and ours under `deletion.`).
 * No key is also the namespace of others (`deletion.participant.name`, not
 * `deletion.participant`), so backends that nest dotted keys can store them.
 */
export const attributeKeys = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  grpcStatus: 'rpc.grpc.status_code',
  trpcCode: 'rpc.trpc.code',
  requestId: 'deletion.request_id',
  /** USER, SERVICE or SYSTEM: the kind of caller, never who. */
  actorKind: 'deletion.actor_kind',
  errorCode: 'deletion.error_code',
  errorReason: 'deletion.error_reason',
  /** ONE_TIME_CODE or STEP_UP. */
  confirmMethod: 'deletion.confirm_method',
  participant: 'deletion.participant.name',
  /** 1 for the first call to a linked service in a request's purge. */
  attempt: 'deletion.participant.attempt',
  /** ERASED, NOTHING_FOUND, RETAINED or ACCEPTED. */
  participantOutcome: 'deletion.participant.outcome',
  /** Suspend, restore or erase. */
  phase: 'deletion.participant.phase',
  retryInMs: 'deletion.participant.retry_in_ms',
  /** 1 for the first delivery of an alert to a linked service's owner. */
  alertAttempt: 'deletion.owner_alert.attempt',
  state: 'deletion.state',
  fromState: 'deletion.from_state',
  toState: 'deletion.to_state',
  channel: 'notice.channel',
  /** The id the notice's provider gave the message (SMTP Message-ID, SMS sid, push id): no personal data. */
  messageId: 'notice.message_id',
  /** TOTAL_LIMIT or REQUESTER_LIMIT: why the mass-deletion breaker paused erasures. */
  breakerReason: 'deletion.breaker_reason',
  /** The budget a call spent (mutation, read, participant, codeSend, confirmAttempt). */
  rateLimit: 'deletion.rate_limit',
  /** The database (semantic conventions), on every persistence span. */
  dbSystem: 'db.system.name',
} as const;

/** Metric instruments. */
export const metricNames = {
  rpcServerDuration: 'rpc.server.duration',
  rpcClientDuration: 'rpc.client.duration',
  /** State changes, by from and to state; a final `to` is a request's outcome. */
  transitions: 'deletion.transitions',
  /** Time a request spent in a state, recorded when it leaves it, by state. */
  timeInState: 'deletion.state.duration',
  /** Failed calls to linked services, by participant, phase and reason. */
  participantFailures: 'deletion.participant.failures',
  /** Failed calls to linked services that will be tried again, by participant and phase. */
  participantRetries: 'deletion.participant.retries',
  /** Open requests, by state (NEEDS_ATTENTION among them). */
  openRequests: 'deletion.requests.open',
  /** Open requests whose legal deadline is less than the configured warning away (or past). */
  nearDeadline: 'deletion.requests.near_deadline',
  /**
   * When the two gauges above were last read from the database (Unix seconds): a
   * read that fails reports nothing, and a cumulative exporter repeats the last
   * values, so alert when this falls behind.
   */
  countedAt: 'deletion.requests.counted_at',
  /** Times the mass-deletion breaker paused erasures, by reason. */
  breakerTrips: 'deletion.breaker.trips',
  /** Erasures due to start that were held back while paused. */
  erasuresHeld: 'deletion.erasures.held',
} as const;
