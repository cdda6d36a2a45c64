import type { Contact } from '../../domain/notices.js';
import type { NoticeChannel, SubjectNotice } from '../../domain/subject-notice.js';

/**
 * One notice on its way to one subject. The contact is personal data: it
 * never leaves the notifier (no log, no span, no error carries it).
 */
export interface NoticeDelivery {
  readonly notice: SubjectNotice;
  readonly to: Contact;
  /**
   * The event the notice is for, the same on every attempt (e.g. `<request>/SCHEDULED`):
   * sent as the provider's idempotency key, so a provider that honours it delivers a repeat once.
   */
  readonly key: string;
}

/** Where a notice went: the channel used and the provider's id for the message (null when it gives none). */
export interface DeliveryReceipt {
  readonly channel: NoticeChannel | 'dev_mailbox';
  readonly messageId: string | null;
}

/**
 * Delivers notices to the subject. Throws UNAVAILABLE when the channel is
 * down (try again later), FAILED_PRECONDITION when the notice can never go
 * (no address on any channel, an address the provider refuses for good).
 */
export interface Notifier {
  send(delivery: NoticeDelivery): Promise<DeliveryReceipt>;
}
