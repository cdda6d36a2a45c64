import { createHmac, timingSafeEqual } from 'node:crypto';
import { deliverOverHttp, type HttpProviderOptions } from './http-provider.js';
import type { Channel } from './notifier.js';

/** The company's push gateway: an HTTPS webhook, and the secret its requests are signed with. */
export interface PushOptions extends HttpProviderOptions {
  readonly url: string;
  readonly secret: string;
  /** The time the signature carries (tests fix it). */
  readonly now?: () => Date;
}

/**
 * The header that carries the signature: `t=<Unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>" with the secret>`. The time is signed with the
 * body, so a gateway refuses a captured request replayed later.
 */
export const PUSH_SIGNATURE_HEADER = 'x-deletion-signature';

const hmac = (secret: string, signedAt: number, body: string): string =>
  createHmac('sha256', secret)
    .update(`${String(signedAt)}.${body}`)
    .digest('hex');

/** The signature header of a webhook body sent at `at`. */
export const signPushBody = (secret: string, body: string, at: Date): string => {
  const signedAt = Math.floor(at.getTime() / 1000);
  return `t=${String(signedAt)},v1=${hmac(secret, signedAt, body)}`;
};

/**
 * What a gateway checks (exported for gateways written in TypeScript, and
 * tests): the header is ours for this body, signed within `toleranceSeconds`
 * of `now` (default five minutes). Compared in constant time.
 */
export const verifyPushSignature = (
  secret: string,
  request: { readonly header: string | undefined; readonly body: string },
  options: { readonly now: Date; readonly toleranceSeconds?: number },
): boolean => {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(request.header ?? '');
  if (match === null) return false;
  const tolerance = options.toleranceSeconds ?? 300;
  if (!Number.isFinite(tolerance) || tolerance < 0) return false;
  const signedAt = Number(match[1]);
  const age = Math.abs(options.now.getTime() / 1000 - signedAt);
  if (!(age <= tolerance)) return false;
  const expected = Buffer.from(hmac(secret, signedAt, request.body), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2] ?? '', 'hex'));
};

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
    const answer = await deliverOverHttp({ ...options, what: 'push gateway' }, message, (signal) =>
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
