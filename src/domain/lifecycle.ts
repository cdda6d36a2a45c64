import { DomainError, invalidState, preconditionFailed } from './domain-error.js';
import {
  transition,
  type ChangeContext,
  type ConfirmationMethod,
  type DeletionRequest,
  type StateChange,
} from './deletion-request.js';
import type { Actor } from './principal.js';
import type { SignedErasureReport } from './erasure-report.js';
import type { ParticipantStep } from './erasure-steps.js';
import type { FinalNotice } from './notices.js';
import { isTerminal } from './deletion-state.js';
import { extendedDeadline, type Jurisdiction, type LegalClock } from './legal-deadline.js';
import { owe } from './subject-notice.js';

/** The calls whose retry answers the request as it is (AIP-style idempotent transitions). */
export type RepeatableVerb = 'confirm' | 'approve' | 'reject' | 'cancel' | 'undelete';

/** Whether a recorded change is the one a call of the verb makes. */
const changeOf: Record<RepeatableVerb, (change: StateChange) => boolean> = {
  confirm: (change) =>
    change.from === 'REQUESTED' && (change.to === 'SCHEDULED' || change.to === 'AWAITING_APPROVAL'),
  approve: (change) => change.from === 'AWAITING_APPROVAL' && change.to === 'SCHEDULED',
  reject: (change) => change.to === 'REJECTED',
  cancel: (change) => change.to === 'CANCELLED',
  undelete: (change) => change.to === 'RESTORED',
};

/**
 * Whether `actor` already made the change a call of `verb` makes: then a
 * call of it is a retry (the first one's answer was lost, e.g. the database
 * went away after it committed) and is answered with the request as it is
 * now, not refused for the state the first call left. Another caller's
 * call is no retry.
 */
export const repeats = (request: DeletionRequest, actor: Actor, verb: RepeatableVerb): boolean =>
  request.history.some(
    (change) =>
      change.actor.kind === actor.kind && change.actor.id === actor.id && changeOf[verb](change),
  );

/**
 * Whether a request can still be confirmed at `now`. Throws FAILED_PRECONDITION
 * `INVALID_STATE` unless REQUESTED, `CODE_EXPIRED` once its window is over.
 */
export const assertConfirmable = (request: DeletionRequest, now: Date): void => {
  if (request.state !== 'REQUESTED') throw invalidState('confirm', request.state, request.id);
  if (request.confirmExpireAt <= now) {
    throw preconditionFailed(
      'CODE_EXPIRED',
      'the confirmation window is over; request a new deletion',
      request.id,
    );
  }
};

/**
 * Confirms a REQUESTED request: to AWAITING_APPROVAL when high risk, else soft-deleted (SCHEDULED).
 * Throws FAILED_PRECONDITION `INVALID_STATE` or `CODE_EXPIRED`.
 */
export const confirm = (
  request: DeletionRequest,
  options: { readonly method: ConfirmationMethod; readonly gracePeriodMs: number },
  context: ChangeContext,
): DeletionRequest => {
  const note =
    options.method === 'ONE_TIME_CODE' ? 'CONFIRMED_WITH_CODE' : 'CONFIRMED_WITH_STEP_UP';
  if (request.state !== 'REQUESTED') throw invalidState('confirm', request.state, request.id);
  const confirmed = { ...request, confirmationMethod: options.method, verification: null };
  if (request.riskReasons.length > 0) {
    return transition(confirmed, { to: 'AWAITING_APPROVAL', verb: 'confirm', note }, context);
  }
  return schedule(confirmed, { note, gracePeriodMs: options.gracePeriodMs }, context);
};

const schedule = (
  request: DeletionRequest,
  options: { readonly note: string; readonly gracePeriodMs: number },
  context: ChangeContext,
): DeletionRequest => ({
  ...transition(request, { to: 'SCHEDULED', verb: 'confirm', note: options.note }, context),
  deletedAt: context.now,
  purgeAt: new Date(context.now.getTime() + options.gracePeriodMs),
  accountSynced: false,
});

/**
 * The four-eyes rule: who reviews, resolves or extends is neither the
 * requester nor the subject. Throws PERMISSION_DENIED with `reason`.
 */
export const assertSecondPerson = (
  request: DeletionRequest,
  actor: Actor,
  refusal: { readonly reason: string; readonly role: string },
): void => {
  if (actor.id === request.requester.id || actor.id === request.subjectId) {
    throw new DomainError({
      code: 'PERMISSION_DENIED',
      reason: refusal.reason,
      message: `the ${refusal.role} must be neither the requester nor the subject`,
      metadata: { deletionRequest: request.id },
    });
  }
};

/**
 * Approves an AWAITING_APPROVAL request: it is soft-deleted (SCHEDULED).
 * Throws PERMISSION_DENIED `SELF_APPROVAL`, FAILED_PRECONDITION `INVALID_STATE`.
 */
export const approve = (
  request: DeletionRequest,
  options: { readonly gracePeriodMs: number },
  context: ChangeContext,
): DeletionRequest => {
  assertSecondPerson(request, context.actor, { reason: 'SELF_APPROVAL', role: 'reviewer' });
  if (request.state !== 'AWAITING_APPROVAL')
    throw invalidState('approve', request.state, request.id);
  const scheduled = schedule(
    request,
    { note: 'APPROVED', gracePeriodMs: options.gracePeriodMs },
    context,
  );
  return { ...scheduled, reviewer: context.actor };
};

/** Rejects an AWAITING_APPROVAL request. Throws PERMISSION_DENIED `SELF_APPROVAL`, FAILED_PRECONDITION `INVALID_STATE`. */
export const reject = (
  request: DeletionRequest,
  reviewNote: string,
  context: ChangeContext,
): DeletionRequest => {
  assertSecondPerson(request, context.actor, { reason: 'SELF_APPROVAL', role: 'reviewer' });
  const next = transition(request, { to: 'REJECTED', verb: 'reject', note: 'REJECTED' }, context);
  return { ...next, reviewer: context.actor, reviewNote };
};

/** Withdraws a request that is not scheduled yet. Throws FAILED_PRECONDITION `INVALID_STATE`. */
export const cancel = (request: DeletionRequest, context: ChangeContext): DeletionRequest => {
  const next = transition(request, { to: 'CANCELLED', verb: 'cancel', note: 'CANCELLED' }, context);
  return { ...next, verification: null };
};

/**
 * Restores a soft-deleted account; refused after `purgeAt` or once erasing started.
 * Throws FAILED_PRECONDITION `GRACE_PERIOD_OVER` or `INVALID_STATE`.
 */
export const undelete = (request: DeletionRequest, context: ChangeContext): DeletionRequest => {
  if (request.state === 'SCHEDULED' && request.purgeAt && request.purgeAt <= context.now) {
    throw preconditionFailed(
      'GRACE_PERIOD_OVER',
      'the grace period is over; the account can no longer be restored',
      request.id,
    );
  }
  const next = transition(
    request,
    { to: 'RESTORED', verb: 'undelete', note: 'UNDELETED' },
    context,
  );
  return { ...next, accountSynced: false };
};

/** Marks a request that was never confirmed in time. Throws FAILED_PRECONDITION `NOT_EXPIRED` or `INVALID_STATE`. */
export const expire = (request: DeletionRequest, context: ChangeContext): DeletionRequest => {
  if (request.state === 'REQUESTED' && request.confirmExpireAt > context.now) {
    throw preconditionFailed('NOT_EXPIRED', 'the confirmation window is still open', request.id);
  }
  const next = transition(
    request,
    { to: 'EXPIRED', verb: 'expire', note: 'CONFIRMATION_WINDOW_ELAPSED' },
    context,
  );
  return { ...next, verification: null };
};

/** Ends a REQUESTED request whose code was guessed wrong too often, so a new one can be made. Throws FAILED_PRECONDITION `INVALID_STATE`. */
export const lockOut = (request: DeletionRequest, context: ChangeContext): DeletionRequest => {
  const next = transition(
    request,
    { to: 'EXPIRED', verb: 'expire', note: 'TOO_MANY_ATTEMPTS' },
    context,
  );
  return { ...next, verification: null };
};

/**
 * Starts the purge of a SCHEDULED request whose grace period is over, under a
 * lease, with one pending step per linked service of the erase phase.
 * Throws FAILED_PRECONDITION `GRACE_PERIOD_NOT_OVER` or `INVALID_STATE`.
 */
export const startErasing = (
  request: DeletionRequest,
  start: {
    readonly lease: { readonly owner: string; readonly until: Date };
    readonly steps: Readonly<Record<string, ParticipantStep>>;
    /** How to tell the subject once it is done (captured now: the account goes first). */
    readonly finalNotice: FinalNotice | null;
  },
  context: ChangeContext,
): DeletionRequest => {
  if (request.state === 'SCHEDULED' && (!request.purgeAt || request.purgeAt > context.now)) {
    throw preconditionFailed('GRACE_PERIOD_NOT_OVER', 'the grace period is not over', request.id);
  }
  const next = transition(
    request,
    { to: 'ERASING', verb: 'erase', note: 'GRACE_PERIOD_ELAPSED' },
    context,
  );
  return {
    ...next,
    participants: start.steps,
    finalNotice: start.finalNotice,
    // Erasing supersedes any Suspend still owed.
    notices: null,
    leaseOwner: start.lease.owner,
    leaseUntil: start.lease.until,
  };
};

/**
 * A purge that cannot finish by itself: a linked service kept failing or
 * missed its promised report. The request is never reported as done; an
 * administrator must act. Throws FAILED_PRECONDITION `INVALID_STATE`.
 */
export const needAttention = (
  request: DeletionRequest,
  failed: readonly string[],
  context: ChangeContext,
): DeletionRequest => {
  const note = `PARTICIPANTS_FAILED:${failed.join(',')}`;
  const next = transition(request, { to: 'NEEDS_ATTENTION', verb: 'erase', note }, context);
  return { ...next, leaseOwner: null, leaseUntil: null };
};

/**
 * Finishes the purge once every linked service answered for good.
 * Throws FAILED_PRECONDITION `PARTICIPANTS_PENDING` or `INVALID_STATE`.
 */
export const complete = (
  request: DeletionRequest,
  report: SignedErasureReport | null,
  context: ChangeContext,
): DeletionRequest => {
  if (Object.values(request.participants).some((step) => step.status !== 'DONE')) {
    throw preconditionFailed(
      'PARTICIPANTS_PENDING',
      'a linked service has not answered for good',
      request.id,
    );
  }
  if (request.finalNotice?.contact) {
    throw preconditionFailed(
      'FINAL_NOTICE_PENDING',
      'the subject has not been told yet (their contact is still kept)',
      request.id,
    );
  }
  const next = transition(request, { to: 'COMPLETED', verb: 'complete', note: 'ERASED' }, context);
  return { ...next, completedAt: context.now, report, leaseOwner: null, leaseUntil: null };
};

/**
 * Extends an open request's legal deadline, once, by what its jurisdiction
 * allows (GDPR two months, CCPA 45 days), with the reason the subject is
 * told: the notice is owed in the same change. Throws FAILED_PRECONDITION
 * `INVALID_STATE` once the request is closed, `ALREADY_EXTENDED` the second
 * time, `DEADLINE_PASSED` once it is too late; PERMISSION_DENIED
 * `SELF_EXTENSION` for the requester or the subject.
 */
export const extendDeadline = (
  request: DeletionRequest,
  extension: {
    readonly reason: string;
    readonly clocks: Readonly<Record<Jurisdiction, LegalClock>>;
  },
  context: ChangeContext,
): DeletionRequest => {
  assertSecondPerson(request, context.actor, { reason: 'SELF_EXTENSION', role: 'extender' });
  if (isTerminal(request.state)) throw invalidState('extend', request.state, request.id);
  if (request.deadlineExtension !== null) {
    throw preconditionFailed(
      'ALREADY_EXTENDED',
      'the legal deadline can be extended only once',
      request.id,
    );
  }
  // The law asks for the extension, and the subject to be told, within the first period.
  if (request.legalDeadline <= context.now) {
    throw preconditionFailed(
      'DEADLINE_PASSED',
      'the legal deadline has passed; it can only be extended before it',
      request.id,
    );
  }
  const deadline = extendedDeadline(request.jurisdiction, request.legalDeadline, extension.clocks);
  return {
    ...request,
    version: request.version + 1,
    updatedAt: context.now,
    legalDeadline: deadline,
    deadlineExtension: {
      previousDeadline: request.legalDeadline,
      reason: extension.reason,
      actor: context.actor,
      at: context.now,
      traceId: context.traceId,
    },
    outbox: owe(
      request.outbox,
      {
        kind: 'DEADLINE_EXTENDED',
        deletionRequestId: request.id,
        deadline,
        reason: extension.reason,
      },
      { historyLength: request.history.length, now: context.now },
    ),
  };
};
