import type { DeliveryReceipt, NoticeDelivery, Notifier } from '../app/ports/notifier.js';
import { attributeKeys, noticeSpans } from '../telemetry/catalogue.js';
import type { Contact } from '../domain/notices.js';
import { noticeChannels, type NoticeChannel } from '../domain/subject-notice.js';
import { DomainError } from '../domain/domain-error.js';
import { annotateSpan, withSpan } from '../telemetry/with-span.js';
import { noContactAddress, renderNotice, type RenderedNotice } from './notice-messages.js';

/** A message ready for one channel: its address, the rendered notice, and the event's key. */
export interface ChannelMessage {
  readonly address: string;
  readonly rendered: RenderedNotice;
  readonly delivery: NoticeDelivery;
}

/**
 * One way to reach a subject (SMTP, an SMS provider, a push webhook, the dev
 * mailbox). Throws UNAVAILABLE when it is down, FAILED_PRECONDITION when the
 * address is refused for good; returns the provider's message id, if any.
 */
export interface Channel {
  readonly name: DeliveryReceipt['channel'];
  /** The contact's address on this channel, or null when they have none. */
  address(to: Contact): string | null;
  deliver(message: ChannelMessage): Promise<string | null>;
}

/**
 * The channels a notice may go by, in the order to try them: the subject's
 * preferred one when it is configured and they have an address there, then
 * e-mail, then any other configured channel they can be reached on.
 */
export const noticeRoutes = (
  channels: Readonly<Partial<Record<NoticeChannel, Channel>>>,
  to: Contact,
): { readonly channel: Channel; readonly address: string }[] => {
  const order = new Set<NoticeChannel>([
    to.preferredChannel ?? 'email',
    'email',
    ...noticeChannels,
  ]);
  return [...order].flatMap((name) => {
    const channel = channels[name];
    const address = channel?.address(to) ?? null;
    return channel !== undefined && address !== null ? [{ channel, address }] : [];
  });
};

/** The provider refused the address for good: the next channel may still reach the subject. */
const refused = (error: unknown): boolean =>
  error instanceof DomainError && error.reason === 'ADDRESS_REJECTED';

/**
 * The notifier over the configured channels: renders the notice in the
 * subject's language and sends it on the first channel {@link noticeRoutes}
 * gives (the next one when a provider refuses the address for good), in a
 * span named for the notice's kind that records the channel used and the
 * provider's message id (never the address).
 */
export const createNotifier = (
  channels: Readonly<Partial<Record<NoticeChannel, Channel>>>,
  now: () => Date = () => new Date(),
): Notifier => ({
  send: (delivery) => {
    const { notice, to } = delivery;
    const routes = noticeRoutes(channels, to);
    return withSpan(
      noticeSpans[notice.kind],
      { [attributeKeys.requestId]: notice.deletionRequestId },
      async () => {
        const rendered = renderNotice(notice, to.locale, now());
        let refusal: unknown = noContactAddress(notice.deletionRequestId);
        for (const { channel, address } of routes) {
          annotateSpan({ [attributeKeys.channel]: channel.name });
          try {
            const messageId = await channel.deliver({ address, rendered, delivery });
            if (messageId !== null) annotateSpan({ [attributeKeys.messageId]: messageId });
            return { channel: channel.name, messageId };
          } catch (error) {
            if (!refused(error)) throw error;
            refusal = error;
          }
        }
        throw refusal;
      },
    );
  },
});
