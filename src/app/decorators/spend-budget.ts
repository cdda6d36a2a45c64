import type { Principal } from '../../domain/principal.js';
import {
  failsOpen,
  rateLimited,
  rateLimitUnavailable,
  type RateLimit,
} from '../../domain/rate-limits.js';
import type { RateLimiter } from '../ports/rate-limiter.js';

/** Told when a fail-open budget could not be checked and the call went on (limit name only). */
export type OnLimiterDown = (limit: RateLimit, error: unknown) => void;

/**
 * Spends one point of `key`'s budget for `limit`. Throws RESOURCE_EXHAUSTED
 * (`RATE_LIMITED`, with the retry delay) when it is spent; when the store is
 * down, UNAVAILABLE (`RATE_LIMIT_UNAVAILABLE`) unless the budget fails open.
 */
export const spendBudget = async (
  limiter: RateLimiter,
  spent: { readonly limit: RateLimit; readonly key: string; readonly onDown?: OnLimiterDown },
): Promise<void> => {
  let verdict;
  try {
    verdict = await limiter.consume(spent.limit, spent.key);
  } catch (error) {
    if (!failsOpen(spent.limit)) throw rateLimitUnavailable(spent.limit, error);
    spent.onDown?.(spent.limit, error);
    return;
  }
  if (!verdict.allowed) throw rateLimited(spent.limit, verdict.retryDelayMs);
};

/** The key of a principal's budgets: who acted, never whom it was about. */
export const principalKey = (principal: Principal): string =>
  `principal:${principal.actor.kind}:${principal.actor.id}`;

/** The key of a subject's budgets. */
export const subjectKey = (subjectId: string): string => `subject:${subjectId}`;
