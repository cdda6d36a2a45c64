import type { Notifier } from '../app/ports.js';
import type { DeletionRequestId } from '../domain/ids.js';
import { withSpan } from '../telemetry/with-span.js';
import {
  renderConfirmationCode,
  noContactAddress,
  renderErasureCompleted,
  type RenderedMessage,
} from './notice-messages.js';
import { attributeKeys, stepSpans } from '../app/telemetry-catalogue.js';

/** A message as the dev mailbox keeps it. */
export interface MailboxMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly sentAt: Date;
}

/** Where the dev mailbox keeps messages (a collection in the service's database). */
export interface MailboxStore {
  deliver(message: MailboxMessage): Promise<void>;
  list(options: {
    readonly to?: string | undefined;
    readonly limit: number;
  }): Promise<MailboxMessage[]>;
}

/**
 * Development only: "sends" notices into a local mailbox that a developer reads
 * with `npm run mailbox`. Configuration refuses it in production.
 */
export const createMailboxNotifier = (
  store: MailboxStore,
  now: () => Date = () => new Date(),
): Notifier => {
  const send = (
    span: string,
    notice: {
      readonly deletionRequestId: DeletionRequestId;
      readonly to: { email: string | null; phone: string | null };
    },
    render: () => RenderedMessage,
  ): Promise<void> =>
    withSpan(
      span,
      {
        [attributeKeys.requestId]: notice.deletionRequestId,
        [attributeKeys.channel]: 'dev_mailbox',
      },
      async () => {
        const to = notice.to.email ?? notice.to.phone;
        if (to === null) {
          throw noContactAddress(notice.deletionRequestId, 'contact address');
        }
        const message = render();
        await store.deliver({ to, subject: message.subject, text: message.text, sentAt: now() });
      },
    );
  return {
    sendConfirmationCode: (notice) =>
      send(stepSpans.noticeConfirmationCode, notice, () => renderConfirmationCode(notice, now())),
    sendErasureCompleted: (notice) =>
      send(stepSpans.noticeErasureCompleted, notice, () => renderErasureCompleted(notice)),
  };
};
