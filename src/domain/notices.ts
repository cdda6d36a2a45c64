import { retryAt, type ParticipantSpec, type Phase, type RetryPolicy } from './erasure-steps.js';
import { isNoticeChannel, type NoticeChannel } from './subject-notice.js';

/** Suspend or Restore calls still owed to linked services after a soft delete or an undelete. */
export interface PendingNotices {
  readonly phase: Extract<Phase, 'suspend' | 'restore'>;
  /** Names of the linked services that have not acknowledged yet. */
  readonly pending: readonly string[];
  readonly attempts: number;
  /** When the worker sends them (again). */
  readonly dueAt: Date;
}

/** The notices a soft delete (suspend) or an undelete (restore) owes, due now; null when none. */
export const noticesFor = (
  phase: PendingNotices['phase'],
  specs: readonly ParticipantSpec[],
  now: Date,
): PendingNotices | null => {
  const pending = specs.filter((spec) => spec.phases.includes(phase)).map((spec) => spec.name);
  return pending.length === 0 ? null : { phase, pending, attempts: 0, dueAt: now };
};

/**
 * After a round of calls: done when every service acknowledged, else the rest
 * is due again after a capped, fully jittered delay.
 */
export const afterNoticeRound = (
  notices: PendingNotices,
  failed: readonly string[],
  policy: RetryPolicy & { readonly now: Date },
): PendingNotices | null => {
  if (failed.length === 0) return null;
  const attempts = notices.attempts + 1;
  return { ...notices, pending: failed, attempts, dueAt: retryAt(attempts, policy) };
};

/** How to reach the subject: personal data, kept only until the final notice is sent. */
export interface Contact {
  readonly email: string | null;
  readonly phone: string | null;
  /** The subject's device registration with the push gateway. */
  readonly pushToken: string | null;
  /** The channel they asked to be told on; null (or one they have no address for) means e-mail. */
  readonly preferredChannel: NoticeChannel | null;
  readonly locale: string | null;
}

/** The contact's fields of an account (or any record that carries them), nothing else. */
export const contactOf = (from: Contact): Contact => ({
  email: from.email,
  phone: from.phone,
  pushToken: from.pushToken,
  preferredChannel: from.preferredChannel,
  locale: from.locale,
});

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** A stored contact (JSON, or a document written before push and the preferred channel existed). */
export const contactFrom = (
  stored: Readonly<Partial<Record<keyof Contact, unknown>>>,
): Contact => ({
  email: text(stored.email),
  phone: text(stored.phone),
  pushToken: text(stored.pushToken),
  preferredChannel: isNoticeChannel(stored.preferredChannel) ? stored.preferredChannel : null,
  locale: text(stored.locale),
});

/** Whether a contact holds any address a notice can go to. */
export const hasAddress = (contact: Contact): boolean =>
  contact.email !== null || contact.phone !== null || contact.pushToken !== null;

/**
 * The notice that tells the subject their account is gone. Its contact is
 * the only personal data a request holds, captured when the purge starts
 * (the account is erased before the notice can go) and deleted once the
 * notice is sent, or given up on: before COMPLETED (docs/design.md §2).
 */
export interface FinalNotice {
  /** Null once sent or given up: the contact is deleted. */
  readonly contact: Contact | null;
  readonly attempts: number;
  /** When to try again after the channel was down; null before the first try and once done. */
  readonly dueAt: Date | null;
  readonly sentAt: Date | null;
}

/** Failed sends after which the contact is deleted anyway (it is not kept forever). */
export const FINAL_NOTICE_MAX_ATTEMPTS = 10;

/** The final notice a purge owes (only the account's contact fields), or null when it has nowhere to send it. */
export const finalNoticeFor = (account: Contact | null): FinalNotice | null =>
  account === null || !hasAddress(account)
    ? null
    : {
        contact: contactOf(account),
        attempts: 0,
        dueAt: null,
        sentAt: null,
      };

/**
 * After one send: sent → the contact is deleted; the channel was down → due
 * again after a capped, fully jittered delay, until the last attempt;
 * undeliverable (or out of attempts) → the contact is deleted unsent.
 */
export const afterFinalNotice = (
  notice: FinalNotice,
  result: 'SENT' | 'RETRY' | 'UNDELIVERABLE',
  policy: RetryPolicy & { readonly now: Date },
): FinalNotice => {
  const attempts = notice.attempts + 1;
  if (result === 'SENT') return { contact: null, attempts, dueAt: null, sentAt: policy.now };
  if (result === 'UNDELIVERABLE' || attempts >= FINAL_NOTICE_MAX_ATTEMPTS)
    return { contact: null, attempts, dueAt: null, sentAt: null };
  return { ...notice, attempts, dueAt: retryAt(attempts, policy) };
};
