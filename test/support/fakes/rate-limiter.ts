import type { Clock } from '../../../src/app/ports/clock.js';
import type { RateLimiter } from '../../../src/app/ports/rate-limiter.js';
import type { RateBudget, RateLimit } from '../../../src/domain/rate-limits.js';
import { outageSwitch, type Outage } from './store-away.js';

/** Rate limits in memory, on the fake clock. */
export interface FakeRateLimiter extends RateLimiter, Outage {
  /** Points of `key`'s budget for `limit` spent in the current window. */
  spent(limit: RateLimit, key: string): number;
}

/**
 * A fake rate limiter: every budget is an exact sliding window on `clock`
 * (at most `points` spent in any `windowMs`); a refusal says how long until
 * the oldest point spent leaves the window. While down, every budget but the
 * reads (kept in each replica's memory) throws UNAVAILABLE. A sweep counts
 * the points whose window is over.
 */
export const fakeRateLimiter = (options: {
  readonly budgets: Readonly<Record<RateLimit, RateBudget>>;
  readonly clock: Clock;
}): FakeRateLimiter => {
  const spends = new Map<string, { readonly limit: RateLimit; times: number[] }>();
  const outage = outageSwitch();
  const live = (limit: RateLimit, times: readonly number[], now: number): number[] =>
    times.filter((at) => at > now - options.budgets[limit].windowMs);
  const spend = (limit: RateLimit, key: string) => {
    const { points, windowMs } = options.budgets[limit];
    const now = options.clock.now().getTime();
    const entry = spends.get(`${limit}\0${key}`) ?? { limit, times: [] };
    spends.set(`${limit}\0${key}`, entry);
    const inWindow = live(limit, entry.times, now);
    if (inWindow.length >= points)
      return { allowed: false as const, retryDelayMs: Math.min(...inWindow) + windowMs - now };
    entry.times.push(now);
    return { allowed: true as const };
  };
  return {
    setDown: outage.setDown,
    spent: (limit, key) =>
      live(limit, spends.get(`${limit}\0${key}`)?.times ?? [], options.clock.now().getTime())
        .length,
    consume: (limit, key) =>
      limit === 'read' ? Promise.resolve(spend(limit, key)) : outage.guard(() => spend(limit, key)),
    sweep: () =>
      outage.guard(() => {
        const now = options.clock.now().getTime();
        let swept = 0;
        for (const [name, entry] of spends) {
          const kept = live(entry.limit, entry.times, now);
          // Reads are kept in each replica's memory and expire there: no store entry to sweep.
          if (entry.limit !== 'read') swept += entry.times.length - kept.length;
          entry.times = kept;
          if (kept.length === 0) spends.delete(name);
        }
        return swept;
      }),
  };
};
