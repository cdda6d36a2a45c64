import type { Connection, Model } from 'mongoose';
import { insertedFirst } from './classify-mongo-error.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';
import { updateOf } from './request-change.js';
import type { RequestWrites, VersionedChange } from './request-writes.js';

/** One claimed version of a request: its full document, written before the request itself. */
interface VersionClaim {
  _id: string;
  requestId: string;
  version: number;
  /** The document of this version; null for a removal, or once pruned. */
  snapshot: DeletionRequestDocument | null;
  claimedAt: Date;
  /** The request reached a final state after this version: only the claim itself is kept. */
  pruned?: boolean;
}

/** The collection of claimed versions (append-only: the write history of every request). */
export const DELETION_REQUEST_VERSIONS = 'deletion_request_versions';

const claimId = (requestId: string, version: number): string => `${requestId}#${String(version)}`;

/**
 * The store of version claims for the claim protocol below: one document per
 * claimed version, looked up by `_id` only (the one filter every server
 * answers from an index).
 */
export interface VersionClaims {
  /** Claims `version` of request `requestId`; false when it is taken. */
  claimVersion(
    requestId: string,
    version: number,
    snapshot: DeletionRequestDocument | null,
  ): Promise<boolean>;
  /** The claim of one version of a request, if any. */
  findClaim(
    requestId: string,
    version: number,
  ): Promise<{ snapshot: DeletionRequestDocument | null; claimedAt: Date } | null>;
  /**
   * Forgets the older snapshots (versions `from` to `version - 1`) of a request that reached a final state. The
   * claims themselves stay (small), so a writer that read an old version can
   * never claim it again.
   */
  pruneBelow(requestId: string, version: number, from?: number): Promise<void>;
}

/** Version claims in a collection of the service's database. */
export const createVersionClaims = (conn: Connection): VersionClaims => {
  const versions = conn.collection<VersionClaim>(DELETION_REQUEST_VERSIONS);
  return {
    claimVersion: (requestId, version, snapshot) =>
      insertedFirst(() =>
        versions.insertOne({
          _id: claimId(requestId, version),
          requestId,
          version,
          snapshot,
          claimedAt: new Date(),
        }),
      ),
    findClaim: async (requestId, version) => {
      const found = await versions.findOne({ _id: claimId(requestId, version) });
      return found && !found.pruned
        ? { snapshot: found.snapshot, claimedAt: found.claimedAt }
        : null;
    },
    pruneBelow: async (requestId, version, from = 1) => {
      // By `_id` only: every server looks these up by index (FerretDB 1.x scans for anything else).
      const older = Array.from({ length: Math.max(0, version - from) }, (_, index) => ({
        updateOne: {
          filter: { _id: claimId(requestId, from + index) },
          update: { $set: { snapshot: null, pruned: true } },
        },
      }));
      if (older.length > 0) await versions.bulkWrite(older, { ordered: false });
    },
  };
};

/** A claim this old whose version never reached the request: its writer died. */
const ORPHAN_AFTER_MS = 2000;

/**
 * Compare-and-set for request documents on a server that applies a filtered
 * update as "read, then overwrite" (FerretDB 1.x: two guarded writers can both
 * win). A writer first claims `<id>#<version>` with the full new document;
 * only the claim's holder writes that version, by `_id` (the one lookup such
 * a server answers from an index), sending only what changed. A writer that
 * loses a claim rolls the request forward from the claim after its stored
 * version, if that claim's writer died between its two writes (the snapshot is
 * immutable, so any number of helpers write the same thing). Two round trips
 * per change; MongoDB needs one (request-writes.ts).
 */
export const createVersionClaimWrites = (
  conn: Connection,
  model: Model<DeletionRequestDocument>,
): RequestWrites => {
  const claims = createVersionClaims(conn);
  const storedVersion = async (_id: string): Promise<number | null> => {
    const doc = await model.findById(_id, { version: 1 }).lean<{ version: number }>().exec();
    return doc?.version ?? null;
  };
  /**
   * True when the request holds `version` or a later one: claims are never
   * deleted and a version can only be claimed by a writer that read the one
   * before it, so a stored version at or past this one passed through this
   * claim (written by its holder or rolled forward by a helper).
   */
  const reached = async (id: string, version: number): Promise<boolean> => {
    const stored = await storedVersion(id);
    return stored !== null && stored >= version;
  };
  /**
   * Whether a writer that started at `since` may still write: a helper waits
   * for ORPHAN_AFTER_MS after a claim, so a writer past half of it leaves the
   * write to the helpers (by then one may have written this version and
   * others built on it, which a late write would move back).
   */
  const inTime = (since: number): boolean => Date.now() - since <= ORPHAN_AFTER_MS / 2;
  /** A helper's write of an orphaned claim's snapshot; never moves a request back. */
  const rollForwardTo = async (doc: DeletionRequestDocument, since: number): Promise<void> => {
    if (!inTime(since)) return;
    const { _id, ...fields } = doc;
    const older = { _id, version: { $lt: doc.version } };
    await model.updateOne(older, { $set: fields }, { runValidators: true }).exec();
  };
  /**
   * Finishes the claimed write of a request whose writer died between claim
   * and write: the claim of the version after the stored one. A fresh claim
   * is a writer at work, not a dead one: leave it.
   */
  const rollForward = async (id: string): Promise<void> => {
    const since = Date.now();
    const stored = await storedVersion(id);
    if (stored === null) return;
    const next = await claims.findClaim(id, stored + 1);
    if (next === null || Date.now() - next.claimedAt.getTime() < ORPHAN_AFTER_MS) return;
    if (next.snapshot === null) await model.deleteOne({ _id: id, version: stored }).exec();
    else await rollForwardTo(next.snapshot, since);
  };
  /** The holder's write: what changed, on top of the version before (which it read). */
  const writeClaimed = async (change: VersionedChange, since: number): Promise<boolean> => {
    if (!inTime(since)) return reached(change.id, change.version);
    const filter = { _id: change.id, version: change.version - 1 };
    const result = await model
      .updateOne(filter, updateOf(change.update), { runValidators: true })
      .exec();
    return result.matchedCount === 1 || reached(change.id, change.version);
  };
  return {
    update: async (change) => {
      const since = Date.now();
      if (!(await claims.claimVersion(change.id, change.version, await change.document()))) {
        await rollForward(change.id);
        return false;
      }
      const written = await writeClaimed(change, since);
      // A failed prune leaves them behind (the retention sweep prunes them); the write stands.
      if (written && change.pruneFrom !== null)
        await claims.pruneBelow(change.id, change.version, change.pruneFrom).catch(() => undefined);
      return written;
    },
    remove: async (id, expectedVersion) => {
      if ((await storedVersion(id)) !== expectedVersion) return false;
      if (!(await claims.claimVersion(id, expectedVersion + 1, null))) {
        await rollForward(id);
        return false;
      }
      await model.deleteOne({ _id: id }).exec();
      return true;
    },
    pruneSnapshots: (id, keepVersion) => claims.pruneBelow(id, keepVersion, 1),
  };
};
