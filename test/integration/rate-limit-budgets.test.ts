import { beforeAll, describe, expect, it } from 'vitest';
import { serverTraits } from '../../src/persistence/mongo/mongo-connection.js';
import { createRateLimitPositions } from '../../src/persistence/mongo/rate-limit-positions.js';
import { createRateLimitSlots } from '../../src/persistence/mongo/rate-limit-slots.js';
import { useTestDatabase } from '../support/test-database.js';

const db = useTestDatabase('test_budgets');
let compareAndSet = false;

beforeAll(async () => {
  compareAndSet = (await serverTraits(db())).compareAndSet;
});

const t0 = new Date('2026-12-06T10:00:30Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const budget = { points: 3, windowMs: 60_000 };

describe.each([
  { name: 'claimed slots (any server)', make: createRateLimitSlots },
  { name: 'positions (servers that compare-and-set)', make: createRateLimitPositions },
])('an exact budget kept as $name', ({ make }) => {
  it('allows its points in any window, refuses the next until the oldest is a window old', async () => {
    const budgets = make(db());
    const key = `codeSend:${String(Math.random())}`;
    expect(await budgets.take(key, budget, at(0))).toEqual({ allowed: true });
    expect(await budgets.take(key, budget, at(10))).toEqual({ allowed: true });
    expect(await budgets.take(key, budget, at(20))).toEqual({ allowed: true });
    expect(await budgets.take(key, budget, at(59))).toEqual({ allowed: false, retryDelayMs: 1000 });
    // Across the minute's end (an epoch of the slots), the window slides exactly.
    expect(await budgets.take(key, budget, at(60))).toEqual({ allowed: true });
    expect(await budgets.take(key, budget, at(61))).toEqual({ allowed: false, retryDelayMs: 9000 });
    expect(await budgets.take(key, budget, at(70))).toEqual({ allowed: true });
    // Another key has its own budget.
    expect(await budgets.take(`${key}-other`, budget, at(70))).toEqual({ allowed: true });
  });

  it('allows exactly its points to many concurrent spends', async (context) => {
    // Positions rely on an atomic guarded update, which FerretDB 1.x does not have.
    if (make === createRateLimitPositions && !compareAndSet) context.skip();
    const budgets = make(db());
    const key = `race:${String(Math.random())}`;
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, () => budgets.take(key, { points: 5, windowMs: 60_000 }, at(0))),
    );
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(5);
  });
});
