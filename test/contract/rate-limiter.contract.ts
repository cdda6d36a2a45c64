import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/app/ports/rate-limiter.js';
import type { RateBudget, RateLimit } from '../../src/domain/rate-limits.js';
import { fakeClock, type FakeClock } from '../support/fakes/clock.js';

/** The budgets the contract runs with: small, so a test spends them. */
export const contractBudgets: Readonly<Record<RateLimit, RateBudget>> = {
  mutation: { points: 3, windowMs: 60_000 },
  read: { points: 3, windowMs: 60_000 },
  participant: { points: 3, windowMs: 60_000 },
  codeSend: { points: 3, windowMs: 60_000 },
  confirmAttempt: { points: 5, windowMs: 60_000 },
};

const t0 = new Date('2026-01-05T10:00:30Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const aKey = () => `subject-${randomUUID()}`;

/**
 * The contract of RateLimiter: `points` per window and key, each budget apart.
 * `makeSubject` gives an empty limiter with these budgets on this clock.
 */
export const describeRateLimiterContract = (
  name: string,
  makeSubject: (options: {
    readonly budgets: Readonly<Record<RateLimit, RateBudget>>;
    readonly clock: FakeClock;
  }) => Promise<RateLimiter>,
): void => {
  describe(`RateLimiter contract: ${name}`, () => {
    const subject = async () => {
      const clock = fakeClock(t0);
      return { clock, limiter: await makeSubject({ budgets: contractBudgets, clock }) };
    };

    it('allows a subject budget’s points in any window, refusing the next until the oldest is a window old', async () => {
      const { clock, limiter } = await subject();
      const key = aKey();
      const spend = (seconds: number) => {
        clock.set(at(seconds));
        return limiter.consume('codeSend', key);
      };
      expect(await spend(0)).toEqual({ allowed: true });
      expect(await spend(10)).toEqual({ allowed: true });
      expect(await spend(20)).toEqual({ allowed: true });
      expect(await spend(59)).toEqual({ allowed: false, retryDelayMs: 1000 });
      // Across the end of a minute, the window slides exactly.
      expect(await spend(60)).toEqual({ allowed: true });
      expect(await spend(61)).toEqual({ allowed: false, retryDelayMs: 9000 });
      expect(await spend(70)).toEqual({ allowed: true });
      expect(await limiter.consume('codeSend', aKey())).toEqual({ allowed: true });
    });

    it('keeps each budget of a key apart', async () => {
      const { limiter } = await subject();
      const key = aKey();
      for (let n = 0; n < 3; n += 1) await limiter.consume('codeSend', key);
      expect(await limiter.consume('codeSend', key)).toMatchObject({ allowed: false });
      expect(await limiter.consume('confirmAttempt', key)).toEqual({ allowed: true });
      expect(await limiter.consume('mutation', key)).toEqual({ allowed: true });
    });

    it('allows exactly a subject budget’s points to many concurrent spends', async () => {
      const { limiter } = await subject();
      const key = aKey();
      const verdicts = await Promise.all(
        Array.from({ length: 20 }, () => limiter.consume('confirmAttempt', key)),
      );
      expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(5);
    });

    it.each(['mutation', 'read', 'participant'] as const)(
      'refuses a principal past its %s budget, saying to come back within the window',
      async (limit) => {
        const { limiter } = await subject();
        const principal = `principal-${randomUUID()}`;
        for (let n = 0; n < 3; n += 1)
          expect(await limiter.consume(limit, principal)).toEqual({ allowed: true });
        const refused = await limiter.consume(limit, principal);
        expect(refused).toMatchObject({ allowed: false });
        const delay = refused.allowed ? 0 : refused.retryDelayMs;
        expect(delay).toBeGreaterThan(0);
        expect(delay).toBeLessThanOrEqual(60_000);
        expect(await limiter.consume(limit, `principal-${randomUUID()}`)).toEqual({
          allowed: true,
        });
      },
    );

    it('sweeps what windows that are over left, and nothing that still counts', async () => {
      const { clock, limiter } = await subject();
      const [done, counting] = [aKey(), aKey()];
      await limiter.consume('codeSend', done);
      await limiter.consume('codeSend', done);
      clock.set(at(30));
      for (let n = 0; n < 3; n += 1) await limiter.consume('codeSend', counting);
      expect(await limiter.sweep()).toBe(0);

      clock.set(at(61));
      expect(await limiter.sweep()).toBeGreaterThan(0);
      expect(await limiter.sweep()).toBe(0);
      expect(await limiter.consume('codeSend', counting)).toEqual({
        allowed: false,
        retryDelayMs: 29_000,
      });
      for (let n = 0; n < 3; n += 1)
        expect(await limiter.consume('codeSend', done)).toEqual({ allowed: true });
    });
  });
};
