import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The header that carries a webhook body's signature: `t=<Unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>" with the secret>`. The time is signed with the
 * body, so a receiver refuses a captured request replayed later.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'x-deletion-signature';

const hmac = (secret: string, signedAt: number, body: string): string =>
  createHmac('sha256', secret)
    .update(`${String(signedAt)}.${body}`)
    .digest('hex');

/** The signature header of a webhook body sent at `at`. */
export const signWebhookBody = (secret: string, body: string, at: Date): string => {
  const signedAt = Math.floor(at.getTime() / 1000);
  return `t=${String(signedAt)},v1=${hmac(secret, signedAt, body)}`;
};

/**
 * What a receiver checks (exported for receivers written in TypeScript, and
 * tests): the header is ours for this body, signed within `toleranceSeconds`
 * of `now` (default five minutes). Compared in constant time.
 */
export const verifyWebhookSignature = (
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
