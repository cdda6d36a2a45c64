import type { Connection } from 'mongoose';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';

const TASK_LEASES = 'task_leases';

/** Who runs a task of which one replica at a time is enough, until when. */
interface TaskLeaseDocument {
  _id: string;
  owner: string;
  until: Date;
}

/** Leases on tasks that one replica runs for all (the housekeeping). */
export interface TaskLeases {
  /**
   * Takes or renews the lease of `task` for its `owner` until `now + ttlMs`:
   * true when `owner` holds it now, false while another holder's lease runs.
   */
  acquire(
    task: string,
    lease: { readonly owner: string; readonly ttlMs: number; readonly now: Date },
  ): Promise<boolean>;
}

/** Task leases in one small collection; atomic on every MongoDB-compatible server (one guarded upsert by `_id`). */
export const createMongoTaskLeases = (conn: Connection): TaskLeases => {
  const leases = conn.collection<TaskLeaseDocument>(TASK_LEASES);
  return {
    acquire: (task, { owner, ttlMs, now }) =>
      mongoCall(persistenceSpan(TASK_LEASES, 'acquire'), {}, async () => {
        try {
          const result = await leases.updateOne(
            { _id: task, $or: [{ until: { $lte: now } }, { owner }] },
            { $set: { owner, until: new Date(now.getTime() + ttlMs) } },
            { upsert: true },
          );
          return result.matchedCount + result.upsertedCount > 0;
        } catch (error) {
          // Held by another: the filter missed, and the upsert found the `_id` taken.
          if (isDuplicateKey(error)) return false;
          throw error;
        }
      }),
  };
};
