import type { Connection } from 'mongoose';
import type { RateVerdict } from '../../app/ports/rate-limiter.js';
import type { RateBudget } from '../../domain/rate-limits.js';
import { insertedFirst } from './classify-mongo-error.js';

/** The collection of claimed slots: exact budgets. */
export const RATE_LIMIT_SLOTS = 'rate_limit_slots';

/** Slots are read by their budget's key (FerretDB 1.x evaluates `$in` of ids over every slot). */
export const rateLimitSlotIndexes = [{ key: { key: 1 as const }, name: 'slot_key' }];

/** Slot `<key>#<epoch>#<position>`: one point spent at `claimedAt`. */
interface SlotDocument {
  _id: string;
  /** The budget's key: slots are looked up by it, an equality every server serves from an index. */
  key: string;
  claimedAt: Date;
  /** When the slot stops limiting anything (the sweeper deletes it then). */
  expire: Date;
}

/**
 * An exact sliding-window limit: at most `points` spent in any `windowMs`,
 * across replicas, on every MongoDB-compatible server. A budget has `points`
 * positions; a point is a position taken in the current epoch (`windowMs`
 * long) by inserting its slot (a unique `_id` lets one writer win, where
 * FerretDB 1.24 runs `$inc` as "read, then overwrite" and loses counts). A
 * position taken less than a window ago, in this epoch or the one before, is
 * busy; after inserting, a writer looks at the neighbouring epochs' slot of
 * its position and gives it back if either is within a window of its own, so
 * two writers on either side of an epoch's end cannot both keep it. Writers
 * pick free positions at random, so concurrent ones rarely collide. Slots
 * are read by their key (the slots of one budget: at most three epochs of
 * its points, as the sweep deletes expired ones).
 */
export interface ExactBudgets {
  take(key: string, budget: RateBudget, now: Date): Promise<RateVerdict>;
}

const slotId = (key: string, epoch: number, position: number): string =>
  `${key}#${String(epoch)}#${String(position)}`;

export const createRateLimitSlots = (conn: Connection): ExactBudgets => {
  const slots = conn.collection<SlotDocument>(RATE_LIMIT_SLOTS);
  /** The slots of a budget among `ids`, by id. */
  const byId = async (key: string, ids: readonly string[]): Promise<Map<string, SlotDocument>> => {
    const wanted = new Set(ids);
    const found = await slots.find({ key }).toArray();
    return new Map(found.filter((slot) => wanted.has(slot._id)).map((slot) => [slot._id, slot]));
  };

  const claim = (doc: SlotDocument): Promise<boolean> => insertedFirst(() => slots.insertOne(doc));

  return {
    take: async (key, { points, windowMs }, now) => {
      const at = now.getTime();
      const epoch = Math.floor(at / windowMs);
      const positions = Array.from({ length: points }, (_, index) => index + 1);
      const epochs = [epoch - 1, epoch, epoch + 1];
      const claimedAt = (seen: Map<string, SlotDocument>, e: number, p: number): number =>
        seen.get(slotId(key, e, p))?.claimedAt.getTime() ?? -Infinity;
      // A claim keeps its position busy for a window: one in this epoch always does.
      const freeAt = (seen: Map<string, SlotDocument>, p: number): number =>
        Math.max(0, ...epochs.map((e) => claimedAt(seen, e, p) + windowMs));
      // The first try picks any position unseen: a budget with room spends one insert and one read.
      let candidates = positions;
      for (;;) {
        const position = candidates[Math.floor(Math.random() * candidates.length)] ?? 1;
        const mine = slotId(key, epoch, position);
        const expire = new Date(at + windowMs);
        const inserted = await claim({ _id: mine, key, claimedAt: now, expire });
        // One read: the check of a claim, and what the next try picks from.
        const seen = await byId(
          key,
          positions.flatMap((p) => epochs.map((e) => slotId(key, e, p))),
        );
        if (inserted) {
          // Kept only if no neighbouring epoch's slot of its position is within a window of it.
          const clash = [epoch - 1, epoch + 1].some(
            (e) => Math.abs(claimedAt(seen, e, position) - at) < windowMs,
          );
          if (!clash) return { allowed: true };
          await slots.deleteOne({ _id: mine });
          seen.delete(mine);
        }
        candidates = positions.filter((p) => freeAt(seen, p) <= at);
        if (candidates.length === 0) {
          return {
            allowed: false,
            retryDelayMs: Math.min(...positions.map((p) => freeAt(seen, p))) - at,
          };
        }
      }
    },
  };
};
