import { createHmac } from 'node:crypto';

/**
 * A keyed digest of a value for one purpose (HMAC-SHA256 under a server key,
 * base64url, 192 bits): stable, and not reversible without the key.
 */
export const keyedDigest =
  (key: string, purpose: string) =>
  (value: string): string =>
    createHmac('sha256', key).update(`${purpose}\0${value}`).digest('base64url').slice(0, 32);
