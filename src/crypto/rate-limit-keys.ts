import { createHmac } from 'node:crypto';

/**
 * The keyed digest a rate limit is stored under: principal and subject ids
 * never reach the store as they are (HMAC-SHA256 under a server key).
 */
export const createRateLimitKeys =
  (key: string) =>
  (name: string): string =>
    createHmac('sha256', key).update(`rate-limit\0${name}`).digest('base64url').slice(0, 32);
