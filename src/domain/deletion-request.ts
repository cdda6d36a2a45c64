import { NOTHING_AUDITED, type AuditMarks } from './audit-marks.js';
import { invalidState } from './domain-error.js';
import { canTransition, type DeletionState } from './deletion-state.js';
import type { LocalErasureRecord, SignedErasureReport } from './erasure-report.js';
import type { ParticipantStep } from './erasure-steps.js';
import type { FinalNotice, PendingNotices } from './notices.js';
import { ownerAlertsDueAt, type OwnerAlert } from './owner-alerts.js';
import {
  oweNoticeOfState,
  outboxDueAt,
  type OwedNotice,
  type SentNotice,
} from './subject-notice.js';
import type { DeletionRequestId, SubjectId } from './ids.js';
import type { Jurisdiction } from './legal-deadline.js';
import type { Actor } from './principal.js';
import type { RiskReason } from './risk-policy.js';

/** One transition in a request's history. */
export interface StateChange {
  readonly from: DeletionState;
  readonly to: DeletionState;
  readonly actor: Actor;
  readonly at: Date;
  readonly note: string;
  readonly traceId: string;
  /** The span in which it happened ('' when unknown), so later work can link to it. */
  readonly spanId: string;
}

/** A span of another trace that later work (the purge) links to. */
export interface TraceLink {
  readonly traceId: string;
  readonly spanId: string;
}

/** A state change `next` made on top of `previous`: its place in the history, and when the state it left began. */
export interface AddedChange {
  readonly change: StateChange;
  readonly index: number;
  readonly enteredAt: Date;
}

/** The state changes `next` (a later version) made on top of `previous`, oldest first. */
export const addedChanges = (previous: DeletionRequest, next: DeletionRequest): AddedChange[] =>
  next.history.slice(previous.history.length).map((change, offset) => {
    const index = previous.history.length + offset;
    return { change, index, enteredAt: next.history[index - 1]?.at ?? next.createdAt };
  });

/** The traces of a request's life so far, its creation's first (one link per trace, the latest span of each). */
export const traceLinks = (request: DeletionRequest): TraceLink[] => {
  const latest = new Map<string, string>();
  for (const change of [request.createdIn, ...request.history])
    if (change.traceId !== '' && change.spanId !== '') latest.set(change.traceId, change.spanId);
  return [...latest].map(([traceId, spanId]) => ({ traceId, spanId }));
};

/** The one extension of a request's legal deadline an administrator may make, with the reason the subject is given. */
export interface DeadlineExtension {
  /** The deadline before it was extended (`legalDeadline` is the extended one). */
  readonly previousDeadline: Date;
  readonly reason: string;
  readonly actor: Actor;
  readonly at: Date;
  readonly traceId: string;
}

/** What is left of a request after its retention period: when it was cut down, and what identified its report. */
export interface RetentionRecord {
  readonly sweptAt: Date;
  /**
   * SHA-256 (hex) of the signed erasure report's payload, which named the
   * subject: the report itself is dropped, and a copy the subject kept can
   * still be matched to this record. Null when there was no report.
   */
  readonly reportSha256: string | null;
  /** Whether the request's older snapshots (which name the subject) are gone too: the sweep's second step. */
  readonly snapshotsPruned: boolean;
}

/** The pending one-time code: only its keyed hash is ever kept (attempts are counted by the repository). */
export interface PendingVerification {
  readonly codeHash: string;
}

/** How a request was confirmed. */
export type ConfirmationMethod = 'ONE_TIME_CODE' | 'STEP_UP';

/** The unit of state and of concurrency (docs/design.md §2): one document per request. */
export interface DeletionRequest {
  readonly id: DeletionRequestId;
  readonly subjectId: SubjectId;
  readonly requester: Actor;
  readonly reason: string;
  readonly state: DeletionState;
  /** Bumped by every change; guards every update (optimistic concurrency). */
  readonly version: number;
  readonly riskReasons: readonly RiskReason[];
  readonly jurisdiction: Jurisdiction;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly confirmExpireAt: Date;
  readonly confirmationMethod: ConfirmationMethod | null;
  readonly verification: PendingVerification | null;
  readonly deletedAt: Date | null;
  readonly purgeAt: Date | null;
  readonly completedAt: Date | null;
  /** The latest the erasure may finish; moved once by `deadlineExtension`. */
  readonly legalDeadline: Date;
  readonly deadlineExtension: DeadlineExtension | null;
  readonly reviewer: Actor | null;
  /** The reviewer's stated reason for a rejection. */
  readonly reviewNote: string | null;
  /** False until the account directory matches the state (suspended, restored). */
  readonly accountSynced: boolean;
  /** Suspend or Restore calls still owed to linked services. */
  readonly notices: PendingNotices | null;
  /** The signed evidence of the erasure, once COMPLETED. */
  readonly report: SignedErasureReport | null;
  /** What was erased in the service's own stores, once it was. */
  readonly localErasure: LocalErasureRecord | null;
  /** The notice that tells the subject the erasure is complete (holds their contact until sent). */
  readonly finalNotice: FinalNotice | null;
  /** Notices owed to the subject and not sent yet (the outbox), oldest first. */
  readonly outbox: readonly OwedNotice[];
  /** What the subject was told (or could not be), oldest first. */
  readonly sentNotices: readonly SentNotice[];
  /**
   * Alerts to the teams owning linked services the request needed attention
   * on: owed ones (the outbox) and settled ones (the record), one per service.
   */
  readonly ownerAlerts: readonly OwnerAlert[];
  /**
   * When the subject's data key was destroyed after completion (crypto-shredding:
   * the personal data of the subject's requests is unreadable from then on); null before.
   */
  readonly subjectKeyDestroyedAt: Date | null;
  /** Set once the retention period is over and the request was cut down to what the audit needs. */
  readonly retention: RetentionRecord | null;
  /** Each linked service's progress through Erase, by participant name. */
  readonly participants: Readonly<Record<string, ParticipantStep>>;
  /** The worker holding the purge, and until when (a crashed worker's lease expires). */
  readonly leaseOwner: string | null;
  readonly leaseUntil: Date | null;
  /** AIP-155 key, scoped per caller; null when the caller sent none. */
  readonly idempotencyKey: string | null;
  /** A digest of the creating call's parameters, to refuse a reused key with others. */
  readonly requestFingerprint: string;
  /** The trace (and span) in which the request was made ('' when unknown). */
  readonly createdIn: TraceLink;
  readonly history: readonly StateChange[];
  /**
   * How far the audit log is known to hold the request's changes, notices
   * sent and final answers. The rest is owed: written with the fact itself,
   * appended from here (by the writer, or by the worker when the writer died
   * first), so none is lost.
   */
  readonly audited: AuditMarks;
}

/**
 * The earliest time something in a request's outbox is due: a notice to its
 * subject or an alert to a linked service's owner (null when nothing is owed).
 */
export const owedDueAt = (
  request: Pick<DeletionRequest, 'outbox' | 'ownerAlerts'>,
): Date | null => {
  const times = [outboxDueAt(request.outbox), ownerAlertsDueAt(request.ownerAlerts)].filter(
    (at): at is Date => at !== null,
  );
  return times.length === 0 ? null : new Date(Math.min(...times.map((at) => at.getTime())));
};

/** Who, when and in which trace a change happens. */
export interface ChangeContext {
  readonly actor: Actor;
  readonly now: Date;
  readonly traceId: string;
  readonly spanId?: string;
}

/** Operation names used in errors, in the service's vocabulary. */
type Verb =
  'confirm' | 'approve' | 'reject' | 'cancel' | 'undelete' | 'expire' | 'erase' | 'complete';

/**
 * Moves `request` to `to`, appending history and bumping the version. Throws
 * FAILED_PRECONDITION `INVALID_STATE` when the state machine has no such edge.
 */
export const transition = (
  request: DeletionRequest,
  change: { readonly to: DeletionState; readonly verb: Verb; readonly note: string },
  context: ChangeContext,
): DeletionRequest => {
  if (!canTransition(request.state, change.to)) {
    throw invalidState(change.verb, request.state, request.id);
  }
  return {
    ...request,
    state: change.to,
    version: request.version + 1,
    updatedAt: context.now,
    history: [
      ...request.history,
      {
        from: request.state,
        to: change.to,
        actor: context.actor,
        at: context.now,
        note: change.note,
        traceId: context.traceId,
        spanId: context.spanId ?? '',
      },
    ],
  };
};

/** Everything a new request is made of. */
export interface NewDeletionRequest {
  readonly id: DeletionRequestId;
  readonly subjectId: SubjectId;
  readonly requester: Actor;
  readonly reason: string;
  readonly riskReasons: readonly RiskReason[];
  readonly jurisdiction: Jurisdiction;
  readonly legalDeadline: Date;
  readonly confirmExpireAt: Date;
  readonly verification: PendingVerification | null;
  readonly idempotencyKey: string | null;
  readonly requestFingerprint: string;
  readonly now: Date;
  /** The trace the request is made in. */
  readonly trace?: TraceLink;
}

/** A new request in REQUESTED, version 1, owing its subject a receipt. */
export const createDeletionRequest = (init: NewDeletionRequest): DeletionRequest => {
  const created: DeletionRequest = {
    id: init.id,
    subjectId: init.subjectId,
    requester: init.requester,
    reason: init.reason,
    state: 'REQUESTED',
    version: 1,
    riskReasons: init.riskReasons,
    jurisdiction: init.jurisdiction,
    createdAt: init.now,
    updatedAt: init.now,
    confirmExpireAt: init.confirmExpireAt,
    confirmationMethod: null,
    verification: init.verification,
    deletedAt: null,
    purgeAt: null,
    completedAt: null,
    legalDeadline: init.legalDeadline,
    deadlineExtension: null,
    reviewer: null,
    reviewNote: null,
    accountSynced: true,
    participants: {},
    report: null,
    localErasure: null,
    finalNotice: null,
    outbox: [],
    sentNotices: [],
    ownerAlerts: [],
    subjectKeyDestroyedAt: null,
    retention: null,
    notices: null,
    leaseOwner: null,
    leaseUntil: null,
    idempotencyKey: init.idempotencyKey,
    requestFingerprint: init.requestFingerprint,
    createdIn: init.trace ?? { traceId: '', spanId: '' },
    history: [],
    audited: NOTHING_AUDITED,
  };
  return oweNoticeOfState(created, init.now);
};

/** FNV-1a, 32 bits: a short, stable digest (not for security). */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
};

/**
 * The AIP-154 etag: it changes with what a caller acts on (state, transitions,
 * reviewer, linked-service steps, the deadline's extension), not with background bookkeeping (leases,
 * owed Suspend/Restore calls, account side effects), so a client's etag does
 * not go stale while nothing it could see changed.
 */
export const etagOf = (request: DeletionRequest): string => {
  const steps = Object.entries(request.participants)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, step]) => `${name}:${step.status}:${String(step.attempts)}`);
  const visible = [
    request.state,
    request.history.length,
    request.reviewer?.id ?? '',
    ...steps,
    // Only when there is one, so the etags of requests never extended stay as they were.
    ...(request.deadlineExtension === null ? [] : ['extended']),
  ].join('|');
  return `"${fnv1a(visible).toString(36)}-${String(request.history.length)}"`;
};
