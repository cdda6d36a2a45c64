import type { SignedErasureReport } from './erasure-report.js';
import type { DeletionRequestId } from './ids.js';
import { retryAt, type RetryPolicy } from './erasure-steps.js';

/**
 * What the subject is told, and only the facts each message needs: the
 * request it is about and the dates that matter to them. Never their
 * identifier, their address or anything the linked services hold.
 */
export type SubjectNotice =
  /** Sent at once when a request is made: it was received, and the latest date it is done. */
  | {
      readonly kind: 'RECEIPT';
      readonly deletionRequestId: DeletionRequestId;
      readonly deadline: Date;
    }
  /** The one-time code that confirms the request. */
  | {
      readonly kind: 'CONFIRMATION_CODE';
      readonly deletionRequestId: DeletionRequestId;
      readonly code: string;
      readonly expiresAt: Date;
    }
  /** Confirmed: the account is deactivated, purged on `purgeAt` unless the subject undoes it. */
  | {
      readonly kind: 'SCHEDULED';
      readonly deletionRequestId: DeletionRequestId;
      readonly purgeAt: Date;
    }
  /** Confirmed, and waiting for a second person's review before anything happens. */
  | { readonly kind: 'AWAITING_APPROVAL'; readonly deletionRequestId: DeletionRequestId }
  /** The review refused the deletion: the account stays. */
  | { readonly kind: 'REJECTED'; readonly deletionRequestId: DeletionRequestId }
  /** The deletion was undone within the grace period: the account is active again. */
  | { readonly kind: 'RESTORED'; readonly deletionRequestId: DeletionRequestId }
  /** The legal deadline was extended once, with the reason the law requires the subject be given. */
  | {
      readonly kind: 'DEADLINE_EXTENDED';
      readonly deletionRequestId: DeletionRequestId;
      readonly deadline: Date;
      readonly reason: string;
    }
  /**
   * Erased: the last message, with the signed erasure report (an e-mail
   * attaches it) and `reportUrl`, a link to it that works without an account
   * (null: none configured).
   */
  | {
      readonly kind: 'COMPLETED';
      readonly deletionRequestId: DeletionRequestId;
      readonly completedAt: Date;
      readonly reportUrl: string | null;
      readonly report: SignedErasureReport | null;
    };

export type SubjectNoticeKind = SubjectNotice['kind'];

/** Every kind, in the order of a request's life (templates and tests iterate it). */
export const subjectNoticeKinds = [
  'RECEIPT',
  'CONFIRMATION_CODE',
  'SCHEDULED',
  'AWAITING_APPROVAL',
  'REJECTED',
  'RESTORED',
  'DEADLINE_EXTENDED',
  'COMPLETED',
] as const satisfies readonly SubjectNoticeKind[];

/** The channels a subject can be reached on; the account directory names the one they prefer. */
export const noticeChannels = ['email', 'sms', 'push'] as const;
export type NoticeChannel = (typeof noticeChannels)[number];

export const isNoticeChannel = (value: unknown): value is NoticeChannel =>
  noticeChannels.some((channel) => channel === value);

/** A notice the outbox can hold: never a code (sent at once, never stored) nor the final notice (its own record). */
export type OutboxNotice = Exclude<
  SubjectNotice,
  { readonly kind: 'CONFIRMATION_CODE' | 'COMPLETED' }
>;

/**
 * A notice a request owes its subject, kept in the request (its outbox) from
 * the change that owes it until it is sent: a restart loses nothing. No
 * personal data: the contact is read from the directory when it goes.
 */
export interface OwedNotice {
  /** The event it is for, unique in the request (`<kind>@<history length>`). */
  readonly key: string;
  readonly notice: OutboxNotice;
  readonly attempts: number;
  /** When the change owed it: tries stop a while after (the policy's `giveUpMs`). */
  readonly owedAt: Date;
  readonly dueAt: Date;
}

/** A notice that went, or was given up on: the request's record of what the subject was told. */
export interface SentNotice {
  readonly key: string;
  readonly kind: SubjectNoticeKind;
  /** UNDELIVERABLE: no address, refused for good, or out of attempts. */
  readonly outcome: 'SENT' | 'UNDELIVERABLE';
  /** The channel it went by (null when it did not). */
  readonly channel: string | null;
  /** The provider's id of the message, when it gave one. */
  readonly messageId: string | null;
  readonly at: Date;
}

/**
 * How notices are tried again: a capped, jittered back-off, until `giveUpMs`
 * after the notice was owed (a channel down for hours loses nothing; one down
 * for days gives up, recorded).
 */
export interface NoticeRetryPolicy extends RetryPolicy {
  readonly giveUpMs: number;
}

/** The facts of a request a state's notice needs. */
interface NoticeFacts {
  readonly id: DeletionRequestId;
  readonly state: string;
  readonly purgeAt: Date | null;
  readonly legalDeadline: Date;
  readonly history: readonly unknown[];
}

/**
 * The notice the subject is owed now that the request entered its state:
 * a receipt for a new request, then scheduled, awaiting approval, rejected
 * or restored; null for any other state.
 */
export const noticeOfState = (request: NoticeFacts): OutboxNotice | null => {
  const deletionRequestId = request.id;
  switch (request.state) {
    case 'REQUESTED':
      return { kind: 'RECEIPT', deletionRequestId, deadline: request.legalDeadline };
    case 'SCHEDULED':
      return request.purgeAt === null
        ? null
        : { kind: 'SCHEDULED', deletionRequestId, purgeAt: request.purgeAt };
    case 'AWAITING_APPROVAL':
    case 'REJECTED':
    case 'RESTORED':
      return { kind: request.state, deletionRequestId };
    default:
      return null;
  }
};

/**
 * The request with the notice its subject is owed for the state it is in
 * put in its outbox (keyed by its latest event); as it was when none is owed.
 */
export const oweNoticeOfState = <
  R extends NoticeFacts & { readonly outbox: readonly OwedNotice[] },
>(
  request: R,
  now: Date,
): R => {
  const notice = noticeOfState(request);
  return notice === null
    ? request
    : {
        ...request,
        outbox: owe(request.outbox, notice, { historyLength: request.history.length, now }),
      };
};

/** The outbox with `notice` owed for the request's latest event (once: a repeat of the key is ignored). */
export const owe = (
  outbox: readonly OwedNotice[],
  notice: OutboxNotice,
  event: { readonly historyLength: number; readonly now: Date },
): OwedNotice[] => {
  const key = `${notice.kind}@${String(event.historyLength)}`;
  return outbox.some((owed) => owed.key === key)
    ? [...outbox]
    : [...outbox, { key, notice, attempts: 0, owedAt: event.now, dueAt: event.now }];
};

/**
 * The notices to send now: the head of the outbox, in the order owed, up to
 * the first that is not due (one backing off holds back those after it, so
 * the subject reads them in order).
 */
export const dueNotices = (outbox: readonly OwedNotice[], now: Date): OwedNotice[] => {
  const waiting = outbox.findIndex((owed) => owed.dueAt > now);
  return waiting === -1 ? [...outbox] : outbox.slice(0, waiting);
};

/**
 * The outbox with the notices due at `now` claimed until `until` (their due
 * time moved there): whoever writes it sends them, and no one else finds
 * them due before then. The same array when none is due.
 */
export const claimDue = (
  outbox: readonly OwedNotice[],
  now: Date,
  until: Date,
): readonly OwedNotice[] => {
  const due = dueNotices(outbox, now).length;
  return due === 0
    ? outbox
    : outbox.map((owed, index) => (index < due ? { ...owed, dueAt: until } : owed));
};

/** The head of the outbox claimed until `until` (by `claimDue`), in order. */
export const claimedNotices = (outbox: readonly OwedNotice[], until: Date): OwedNotice[] => {
  const first = outbox.findIndex((owed) => owed.dueAt.getTime() !== until.getTime());
  return first === -1 ? [...outbox] : outbox.slice(0, first);
};

/** The earliest time an owed notice is due (what the worker's query looks for), or null when none is owed. */
export const outboxDueAt = (outbox: readonly OwedNotice[]): Date | null =>
  outbox.reduce<Date | null>(
    (earliest, owed) => (earliest === null || owed.dueAt < earliest ? owed.dueAt : earliest),
    null,
  );

/** How one send of an owed notice went. */
export type NoticeSendResult =
  | { readonly outcome: 'SENT'; readonly channel: string; readonly messageId: string | null }
  | { readonly outcome: 'RETRY' }
  | { readonly outcome: 'UNDELIVERABLE' };

/** A notice's entry in the request's record of what the subject was told, once it went or was given up on. */
export const sentNoticeOf = (
  notice: { readonly key: string; readonly kind: SubjectNoticeKind },
  result: Exclude<NoticeSendResult, { readonly outcome: 'RETRY' }>,
  at: Date,
): SentNotice => ({
  key: notice.key,
  kind: notice.kind,
  outcome: result.outcome,
  channel: result.outcome === 'SENT' ? result.channel : null,
  messageId: result.outcome === 'SENT' ? result.messageId : null,
  at,
});

/**
 * The outbox and the record after one send: a notice sent or given up on
 * (undeliverable, or still failing `giveUpMs` after it was owed) leaves the
 * outbox for the record; one whose channel was down is due again after a
 * capped, jittered back-off. A key no longer owed (a concurrent round
 * recorded it) is ignored, so a result is recorded once.
 */
export const afterNoticeSent = (
  request: { readonly outbox: readonly OwedNotice[]; readonly sentNotices: readonly SentNotice[] },
  sent: { readonly key: string; readonly result: NoticeSendResult },
  policy: NoticeRetryPolicy & { readonly now: Date },
): { outbox: OwedNotice[]; sentNotices: SentNotice[] } => {
  const owed = request.outbox.find((candidate) => candidate.key === sent.key);
  if (owed === undefined)
    return { outbox: [...request.outbox], sentNotices: [...request.sentNotices] };
  const others = request.outbox.filter((candidate) => candidate !== owed);
  const attempts = owed.attempts + 1;
  const givenUp = policy.now.getTime() - owed.owedAt.getTime() >= policy.giveUpMs;
  const { result } = sent;
  if (result.outcome === 'RETRY' && !givenUp) {
    const retried = { ...owed, attempts, dueAt: retryAt(attempts, policy) };
    return {
      outbox: request.outbox.map((candidate) => (candidate === owed ? retried : candidate)),
      sentNotices: [...request.sentNotices],
    };
  }
  const final = result.outcome === 'RETRY' ? { outcome: 'UNDELIVERABLE' as const } : result;
  return {
    outbox: others,
    sentNotices: [
      ...request.sentNotices,
      sentNoticeOf({ key: owed.key, kind: owed.notice.kind }, final, policy.now),
    ],
  };
};
