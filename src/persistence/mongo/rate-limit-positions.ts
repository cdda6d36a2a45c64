import type { Connection } from 'mongoose';
import { isDuplicateKey } from './classify-mongo-error.js';
import type { ExactBudgets } from './rate-limit-slots.js';

/** The collection of budgets kept as positions, one document per budget. */
export const RATE_LIMIT_POSITIONS = 'rate_limit_positions';

/** One budget: when each of its positions was last taken, and when the last stops limiting. */
interface PositionsDocument {
  _id: string;
  /** By position: when it was last taken. */
  taken?: Record<string, Date>;
  expire: Date;
}

/** Tries at positions that looked free before a budget under a race is called spent. */
const MAX_TRIES = 8;
const CONTENDED_RETRY_MS = 1000;

/**
 * The same exact sliding-window budget as the slots (at most `points` spent
 * in any `windowMs`), for servers whose guarded update is atomic (MongoDB):
 * a budget is one document with a time per position, and a point is a
 * position whose time is more than a window ago, taken by one guarded
 * update that sets it to now. A position is taken at most once a window, so
 * `points` positions allow at most `points` spends in any window. The first
 * try takes a position at random, creating the document if there is none:
 * a budget with room costs one command. A busy position (the update finds
 * no match and its upsert collides) costs a read, then a try at one the read
 * shows free (a budget others keep taking first is refused after a few).
 * Not for FerretDB 1.x, which runs the guarded update as "read, then
 * write", so two writers could take one position.
 */
export const createRateLimitPositions = (conn: Connection): ExactBudgets => {
  // Untyped: its filters name positions by path (`taken.3`).
  const budgets = conn.collection(RATE_LIMIT_POSITIONS);
  /** Takes `position` if it is free at `now`: true when taken, false when it was busy. */
  const takeAt = async (
    key: string,
    position: number,
    { now, windowMs }: { readonly now: Date; readonly windowMs: number },
  ): Promise<boolean> => {
    const freeBefore = new Date(now.getTime() - windowMs);
    try {
      await budgets.updateOne(
        { _id: key as never, [`taken.${String(position)}`]: { $not: { $gt: freeBefore } } },
        {
          $set: {
            [`taken.${String(position)}`]: now,
            expire: new Date(now.getTime() + windowMs),
          },
        },
        { upsert: true },
      );
      return true;
    } catch (error) {
      // No match and the document exists: the upsert's insert collides, the position is busy.
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  };
  return {
    take: async (key, { points, windowMs }, now) => {
      const at = now.getTime();
      const positions = Array.from({ length: points }, (_, index) => index);
      let candidate = positions[Math.floor(Math.random() * points)] ?? 0;
      for (let tries = 0; tries < MAX_TRIES; tries += 1) {
        if (await takeAt(key, candidate, { now, windowMs })) return { allowed: true };
        const stored = (await budgets.findOne({ _id: key as never })) as PositionsDocument | null;
        const takenAt = (position: number) =>
          stored?.taken?.[String(position)]?.getTime() ?? -Infinity;
        const free = positions.filter((position) => takenAt(position) <= at - windowMs);
        const next = free[Math.floor(Math.random() * free.length)];
        if (next === undefined) {
          return {
            allowed: false,
            retryDelayMs: Math.min(...positions.map((p) => takenAt(p) + windowMs)) - at,
          };
        }
        candidate = next;
      }
      // Others kept taking the free positions first: the budget is all but spent.
      return { allowed: false, retryDelayMs: CONTENDED_RETRY_MS };
    },
  };
};
