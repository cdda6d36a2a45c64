import type { DeliveryReceipt, NoticeDelivery, Notifier } from '../app/ports.js';
import { attributeKeys, noticeSpans } from '../app/telemetry-catalogue.js';
import type { Contact } from '../domain/notices.js';
import { noticeChannels, type NoticeChannel } from '../domain/subject-notice.js';
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
 * The channel a notice goes by: the subject's preferred one when it is
 * configured and they have an address there, else e-mail, else any
 * configured channel they can be reached on; null when none.
 */
export const routeNotice = (
  channels: Readonly<Partial<Record<NoticeChannel, Channel>>>,
  to: Contact,
): { readonly channel: Channel; readonly address: string } | null => {
  for (const name of [to.preferredChannel ?? 'email', 'email', ...noticeChannels] as const) {
    const channel = channels[name];
    const address = channel?.address(to) ?? null;
    if (channel !== undefined && address !== null) return { channel, address };
  }
  return null;
};

/**
 * The notifier over the configured channels: renders the notice in the
 * subject's language and sends it on the channel {@link routeNotice} picks,
 * in a span named for the notice's kind that records the channel and the
 * provider's message id (never the address).
 */
export const createNotifier = (
  channels: Readonly<Partial<Record<NoticeChannel, Channel>>>,
  now: () => Date = () => new Date(),
): Notifier => ({
  send: (delivery) => {
    const { notice, to } = delivery;
    const route = routeNotice(channels, to);
    return withSpan(
      noticeSpans[notice.kind],
      {
        [attributeKeys.requestId]: notice.deletionRequestId,
        [attributeKeys.channel]: route?.channel.name ?? 'none',
      },
      async () => {
        if (route === null) throw noContactAddress(notice.deletionRequestId, 'contact address');
        const rendered = renderNotice(notice, to.locale, now());
        const messageId = await route.channel.deliver({
          address: route.address,
          rendered,
          delivery,
        });
        if (messageId !== null) annotateSpan({ [attributeKeys.messageId]: messageId });
        return { channel: route.channel.name, messageId };
      },
    );
  },
});
