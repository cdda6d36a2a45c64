import type { RateLimit } from '../../domain/rate-limits.js';

/** The answer of a rate limit: allowed, or refused until `retryDelayMs` has passed. */
export type RateVerdict =
  { readonly allowed: true } | { readonly allowed: false; readonly retryDelayMs: number };

/**
 * Rate limits shared by every replica. `key` names the principal or subject
 * (the store keeps only a keyed digest of it). Throws UNAVAILABLE when the
 * store cannot be reached; the caller decides whether that refuses the call.
 */
export interface RateLimiter {
  /** Spends one point of `key`'s budget for `limit` before the work it guards is done. */
  consume(limit: RateLimit, key: string): Promise<RateVerdict>;
  /** Deletes the entries of windows that are over; resolves to how many went. */
  sweep(): Promise<number>;
}
