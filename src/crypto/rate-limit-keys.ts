import { keyedDigest } from './keyed-digest.js';

/**
 * The keyed digest a rate limit is stored under: principal and subject ids
 * never reach the store as they are (HMAC-SHA256 under a server key).
 */
export const createRateLimitKeys = (key: string): ((name: string) => string) =>
  keyedDigest(key, 'rate-limit');
