import type { DeliveryReceipt, NoticeDelivery, Notifier } from '../../../src/app/ports/notifier.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { DeletionRequestId } from '../../../src/domain/ids.js';
import type { Contact } from '../../../src/domain/notices.js';
import { noticeChannels, type NoticeChannel } from '../../../src/domain/subject-notice.js';

/** A notice the fake delivered, with where it went. */
export interface FakeDelivery {
  readonly delivery: NoticeDelivery;
  readonly receipt: DeliveryReceipt;
}

/** A notifier over every channel that keeps what it delivered and fails when told to. */
export interface FakeNotifier extends Notifier {
  /** What went, oldest first. */
  readonly delivered: readonly FakeDelivery[];
  /** While down, every send throws UNAVAILABLE `NOTIFIER_UNAVAILABLE` (try again later). */
  setDown(down: boolean): void;
  /** Refuses this address for good (FAILED_PRECONDITION `ADDRESS_REJECTED`): the next channel is tried. */
  refuse(address: string): void;
  /** The code the newest CONFIRMATION_CODE notice of `deletionRequestId` carried, if any. */
  codeFor(deletionRequestId: string): string | undefined;
}

const addressOn = (channel: NoticeChannel, to: Contact): string | null => {
  switch (channel) {
    case 'email':
      return to.email;
    case 'sms':
      return to.phone;
    case 'push':
      return to.pushToken;
  }
};

const failure = (
  code: 'UNAVAILABLE' | 'FAILED_PRECONDITION',
  reason: string,
  deletionRequestId: DeletionRequestId,
): DomainError =>
  new DomainError({
    code,
    reason,
    message: `the notice could not be sent: ${reason}`,
    metadata: { deletionRequest: deletionRequestId },
  });

/**
 * A fake notifier, routed like the real one: the preferred channel when the
 * contact has an address there, then e-mail, then SMS and push; a refused
 * address falls through to the next. No address left: FAILED_PRECONDITION
 * `NO_CONTACT_ADDRESS`.
 */
export const fakeNotifier = (): FakeNotifier => {
  const delivered: FakeDelivery[] = [];
  const refused = new Set<string>();
  let down = false;
  return {
    delivered,
    setDown: (value) => {
      down = value;
    },
    refuse: (address) => {
      refused.add(address);
    },
    codeFor: (deletionRequestId) =>
      delivered
        .map(({ delivery }) => delivery.notice)
        .filter((notice) => notice.deletionRequestId === deletionRequestId)
        .flatMap((notice) => (notice.kind === 'CONFIRMATION_CODE' ? [notice.code] : []))
        .at(-1),
    send: (delivery) => {
      const { notice, to } = delivery;
      if (down)
        return Promise.reject(
          failure('UNAVAILABLE', 'NOTIFIER_UNAVAILABLE', notice.deletionRequestId),
        );
      const order = new Set<NoticeChannel>([
        to.preferredChannel ?? 'email',
        'email',
        ...noticeChannels,
      ]);
      const routes = [...order].flatMap((channel) => {
        const address = addressOn(channel, to);
        return address === null ? [] : [{ channel, address }];
      });
      const route = routes.find(({ address }) => !refused.has(address));
      if (route === undefined)
        return Promise.reject(
          routes.length === 0
            ? failure('FAILED_PRECONDITION', 'NO_CONTACT_ADDRESS', notice.deletionRequestId)
            : failure('FAILED_PRECONDITION', 'ADDRESS_REJECTED', notice.deletionRequestId),
        );
      const receipt = {
        channel: route.channel,
        messageId: `message-${String(delivered.length + 1)}`,
      };
      delivered.push({ delivery, receipt });
      return Promise.resolve(receipt);
    },
  };
};
