import { deliverOverHttp, type HttpProviderOptions } from './http-provider.js';
import type { Channel } from './notifier.js';
import {
  signWebhookBody,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature.js';

/** The company's push gateway: an HTTPS webhook, and the secret its requests are signed with. */
export interface PushOptions extends HttpProviderOptions {
  readonly url: string;
  readonly secret: string;
  /** The time the signature carries (tests fix it). */
  readonly now?: () => Date;
}

/** The push gateway's signature header and its check (see webhook-signature.ts). */
export const PUSH_SIGNATURE_HEADER = WEBHOOK_SIGNATURE_HEADER;
export const signPushBody = signWebhookBody;
export const verifyPushSignature = verifyWebhookSignature;

/**
 * The push channel: a JSON POST to the gateway webhook with the subject's
 * device registration, the notice's title (the e-mail subject) and short
 * text, its kind, request and event key (`Idempotency-Key` too), signed with
 * HMAC-SHA256 over the time and the body, so the gateway knows it is us and
 * now (see `verifyPushSignature`). Returns the gateway's `id`.
 */
export const createPushChannel = (options: PushOptions): Channel => ({
  name: 'push',
  address: (to) => to.pushToken,
  deliver: async (message) => {
    const { notice, key } = message.delivery;
    const body = JSON.stringify({
      to: message.address,
      title: message.rendered.subject,
      body: message.rendered.short,
      kind: notice.kind,
      deletionRequest: notice.deletionRequestId,
      key,
    });
    const answer = await deliverOverHttp(
      { ...options, what: 'push gateway' },
      message.delivery.notice,
      (signal) =>
        fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            [PUSH_SIGNATURE_HEADER]: signPushBody(
              options.secret,
              body,
              options.now?.() ?? new Date(),
            ),
          },
          body,
          redirect: 'error',
          signal,
        }),
    );
    return typeof answer.id === 'string' ? answer.id : null;
  },
});
