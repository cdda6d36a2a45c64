import { deletionRequestName } from '../domain/ids.js';
import type { Channel } from '../notify/notifier.js';

/** A message as the dev mailbox keeps it. */
export interface MailboxMessage {
  readonly to: string;
  /** The request it is about, `deletionRequests/{id}` (absent on messages kept before it was). */
  readonly deletionRequest?: string;
  readonly subject: string;
  readonly text: string;
  readonly sentAt: Date;
}

/** Which messages of the dev mailbox to list. */
export interface MailboxFilter {
  readonly to?: string | undefined;
  /** `deletionRequests/{id}`. */
  readonly deletionRequest?: string | undefined;
}

/** Where the dev mailbox keeps messages (a collection in the service's database). */
export interface MailboxStore {
  deliver(message: MailboxMessage): Promise<void>;
  /** The newest first, to one address and about one request when given. */
  list(options: MailboxFilter & { readonly limit: number }): Promise<MailboxMessage[]>;
  /** Deletes the messages sent before `before`; answers how many. */
  expire(before: Date): Promise<number>;
}

/**
 * Development only: "sends" every notice, whatever the channel, into a local
 * mailbox that a developer reads with `npm run mailbox`, addressed to the
 * e-mail address, else the phone number, else the push registration.
 * Configuration refuses it in production.
 */
export const createMailboxChannel = (
  store: MailboxStore,
  now: () => Date = () => new Date(),
): Channel => ({
  name: 'dev_mailbox',
  address: (to) => to.email ?? to.phone ?? to.pushToken,
  deliver: async ({ address, rendered, delivery }) => {
    await store.deliver({
      to: address,
      deletionRequest: deletionRequestName(delivery.notice.deletionRequestId),
      subject: rendered.subject,
      text: rendered.text,
      sentAt: now(),
    });
    return null;
  },
});
