import { describe, expect, it } from 'vitest';
import type { RateLimiter, RateVerdict } from '../../../src/app/ports/rate-limiter.js';
import { spendBudget } from '../../../src/app/decorators/spend-budget.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { RateLimit } from '../../../src/domain/rate-limits.js';

/** A limiter that answers `verdict`, or throws when the store is "down". */
const limiterAnswering = (verdict: RateVerdict | 'down'): RateLimiter => ({
  consume: () =>
    verdict === 'down'
      ? Promise.reject(new DomainError({ code: 'UNAVAILABLE', reason: 'X', message: 'down' }))
      : Promise.resolve(verdict),
  sweep: () => Promise.resolve(0),
});

const refusal = async (promise: Promise<void>): Promise<DomainError> => {
  try {
    await promise;
  } catch (error) {
    if (DomainError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('spendBudget', () => {
  it('refuses a spent budget with RESOURCE_EXHAUSTED, the limit and a whole-millisecond retry delay', async () => {
    const limiter = limiterAnswering({ allowed: false, retryDelayMs: 1234.2 });

    const error = await refusal(spendBudget(limiter, { limit: 'mutation', key: 'k' }));

    expect(error).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      reason: 'RATE_LIMITED',
      metadata: { limit: 'mutation' },
      retryDelayMs: 1235,
    });
  });

  it.each<RateLimit>(['mutation', 'participant', 'codeSend', 'confirmAttempt'])(
    'fails closed for %s when the store is down',
    async (limit) => {
      const error = await refusal(spendBudget(limiterAnswering('down'), { limit, key: 'k' }));
      expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'RATE_LIMIT_UNAVAILABLE' });
    },
  );

  it('fails open for reads when the store is down, and says so', async () => {
    const seen: RateLimit[] = [];

    await spendBudget(limiterAnswering('down'), {
      limit: 'read',
      key: 'k',
      onDown: (limit) => seen.push(limit),
    });

    expect(seen).toEqual(['read']);
  });
});
