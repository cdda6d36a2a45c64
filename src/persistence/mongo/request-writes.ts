import type { Connection, Model } from 'mongoose';
import { insertedFirst } from './classify-mongo-error.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';
import { updateOf, type RequestChange } from './request-change.js';

/**
 * How a change of a request is made atomic across replicas.
 * - `compare-and-set`: one update guarded by `_id` and version (MongoDB runs it atomically).
 * - `version-claims`: the writer first claims the version with an insert into a
 *   unique `_id`, the one compare-and-set FerretDB 1.x does atomically (see version-claims.ts).
 */
export type WriteProtocol = 'compare-and-set' | 'version-claims';

/** One change of a request, from `version - 1` to `version`. */
export interface VersionedChange {
  readonly id: string;
  readonly version: number;
  readonly update: RequestChange;
  /** The whole new document, sealed: only a protocol that keeps snapshots asks for it. */
  readonly document: () => Promise<DeletionRequestDocument>;
  /** Once written, forget the snapshots of versions from this one on (older ones are gone); null: keep them. */
  readonly pruneFrom: number | null;
}

/** The writes of request documents whose atomicity depends on the server. */
export interface RequestWrites {
  /** Writes the change if the request still holds the version before it; false when it moved on. */
  update(change: VersionedChange): Promise<boolean>;
  /** Deletes the request if it holds `expectedVersion`; false when it moved on or is gone. */
  remove(id: string, expectedVersion: number): Promise<boolean>;
  /** Forgets the stored snapshots of versions older than `keepVersion` (none kept: nothing to do). */
  pruneSnapshots(id: string, keepVersion: number): Promise<void>;
}

/** One spent confirmation attempt of a request. */
interface AttemptClaim {
  _id: string;
  requestId: string;
  claimedAt: Date;
}

/** The collection of spent confirmation attempts. */
export const CONFIRMATION_ATTEMPTS = 'confirmation_attempts';

/**
 * Spends the first free one of `max` confirmation attempts; false when all
 * are spent. Attempts are inserts into a unique `_id` (`<request>#<n>`),
 * atomic on every server (so the same whatever the write protocol), and kept
 * for good: a late guess can never spend a "fresh" one.
 */
export const reserveAttempt =
  (conn: Connection) =>
  async (requestId: string, max: number): Promise<boolean> => {
    const attempts = conn.collection<AttemptClaim>(CONFIRMATION_ATTEMPTS);
    for (let attempt = 1; attempt <= max; attempt += 1) {
      const doc = { _id: `${requestId}#${String(attempt)}`, requestId, claimedAt: new Date() };
      if (await insertedFirst(() => attempts.insertOne(doc))) return true;
    }
    return false;
  };

/** One update by `_id` and version, which MongoDB applies atomically: no claim, no read. */
export const createCompareAndSetWrites = (
  model: Model<DeletionRequestDocument>,
): RequestWrites => ({
  update: async (change) => {
    const filter = { _id: change.id, version: change.version - 1 };
    const result = await model
      .updateOne(filter, updateOf(change.update), { runValidators: true })
      .exec();
    return result.matchedCount === 1;
  },
  remove: async (id, expectedVersion) =>
    (await model.deleteOne({ _id: id, version: expectedVersion }).exec()).deletedCount === 1,
  pruneSnapshots: () => Promise.resolve(),
});
