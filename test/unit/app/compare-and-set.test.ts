import { describe, expect, it } from 'vitest';
import { compareAndSet } from '../../../src/app/common/compare-and-set.js';

interface Counter {
  readonly version: number;
  readonly value: number;
}

/** A stored counter another writer bumps `racesLeft` times, each just before our save. */
const store = (racesLeft: number) => {
  let stored: Counter | null = { version: 1, value: 0 };
  const reads: number[] = [];
  return {
    stored: () => stored,
    reads,
    remove: () => {
      stored = null;
    },
    save: (next: Counter, current: Counter): Promise<boolean> => {
      if (stored === null) return Promise.resolve(false);
      if (racesLeft > 0) {
        racesLeft -= 1;
        stored = { version: stored.version + 1, value: stored.value + 10 };
      }
      if (stored.version !== current.version) return Promise.resolve(false);
      stored = next;
      return Promise.resolve(true);
    },
    reread: (): Promise<Counter | null> => {
      reads.push(stored?.version ?? 0);
      return Promise.resolve(stored);
    },
  };
};

const increment = (db: ReturnType<typeof store>, tries = 3) =>
  compareAndSet<Counter, string>({
    start: { version: 1, value: 0 },
    tries,
    decide: (current) => {
      const next = { version: current.version + 1, value: current.value + 1 };
      return { next, result: `wrote ${String(next.value)}` };
    },
    save: db.save,
    reread: db.reread,
    gone: () => 'gone',
    exhausted: (last) => `gave up at version ${String(last.version)}`,
  });

describe('compareAndSet', () => {
  it('decides again on the newest value after each lost race, losing no concurrent change', async () => {
    const db = store(2);
    expect(await increment(db)).toBe('wrote 21');
    expect(db.stored()).toEqual({ version: 4, value: 21 });
    expect(db.reads).toEqual([2, 3]);
  });

  it('gives up after its tries with the last value read, and says when the value is gone', async () => {
    expect(await increment(store(5))).toBe('gave up at version 3');
    const db = store(1);
    db.remove();
    expect(await increment(db)).toBe('gone');
  });

  it('answers without writing when the decision changes nothing', async () => {
    const db = store(0);
    const answer = await compareAndSet<Counter, string>({
      start: { version: 1, value: 0 },
      tries: 3,
      decide: () => ({ result: 'already so' }),
      save: db.save,
      reread: db.reread,
      gone: () => 'gone',
      exhausted: () => 'exhausted',
    });
    expect(answer).toBe('already so');
    expect(db.stored()).toEqual({ version: 1, value: 0 });
  });
});
