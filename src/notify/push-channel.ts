import { createHmac } from 'node:crypto';
import { deliverOverHttp, type HttpProviderOptions } from './http-provider.js';
import type { Channel } from './notifier.js';

/** The company's push gateway: an HTTPS webhook, and the secret its requests are signed with. */
export interface PushOptions extends HttpProviderOptions {
  readonly url: string;
  readonly secret: string;
}

/** The header that carries the signature: `sha256=<hex HMAC-SHA256 of the body with the secret>`. */
export const PUSH_SIGNATURE_HEADER = 'x-deletion-signature';

/** The signature of a webhook body, as the gateway checks it. */
export const signPushBody = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * The push channel: a JSON POST to the gateway webhook with the subject's
 * device registration, the notice's title (the e-mail subject) and short
 * text, its kind, request and event key (`Idempotency-Key` too), signed with
 * HMAC-SHA256 so the gateway knows it is us. Returns the gateway's `id`.
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
    const answer = await deliverOverHttp({ ...options, what: 'push gateway' }, message, (signal) =>
      fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': key,
          [PUSH_SIGNATURE_HEADER]: signPushBody(options.secret, body),
        },
        body,
        redirect: 'error',
        signal,
      }),
    );
    return typeof answer.id === 'string' ? answer.id : null;
  },
});
