import type { Connection } from 'mongoose';
import { insertedFirst } from './classify-mongo-error.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';

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

/** One spent confirmation attempt of a request. */
interface AttemptClaim {
  _id: string;
  requestId: string;
  claimedAt: Date;
}

/** The collection of claimed versions (append-only: the write history of every request). */
export const DELETION_REQUEST_VERSIONS = 'deletion_request_versions';
/** The collection of spent confirmation attempts. */
export const CONFIRMATION_ATTEMPTS = 'confirmation_attempts';

const claimId = (requestId: string, version: number): string => `${requestId}#${String(version)}`;

/**
 * Compare-and-set for request documents that holds on every MongoDB-compatible
 * server. FerretDB 1.24 runs a filtered update as "read, then overwrite", so a
 * version-guarded update alone lets two writers win; an insert into a unique
 * `_id` cannot. A writer first claims `<id>#<version>` here with the full new
 * document, and only the claim's holder writes that version. If a holder dies
 * between the two writes, the next writer that loses a claim rolls the
 * request forward from the claim after its stored version (the snapshot is
 * immutable, so any number of helpers write the same thing). Every lookup is
 * by `_id`, the one filter every server answers from an index.
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
  /** Spends the first free one of `max` attempts; false when all are spent. */
  claimAttempt(requestId: string, max: number): Promise<boolean>;
  /**
   * Forgets the older snapshots (versions `from` to `version - 1`) of a request that reached a final state. The
   * claims themselves stay (small), so a writer that read an old version can
   * never claim it again; spent attempts stay too, or a late guess could
   * spend a "fresh" one.
   */
  pruneBelow(requestId: string, version: number, from?: number): Promise<void>;
}

/** Version and attempt claims in two collections of the service's database. */
export const createVersionClaims = (conn: Connection): VersionClaims => {
  const versions = conn.collection<VersionClaim>(DELETION_REQUEST_VERSIONS);
  const attempts = conn.collection<AttemptClaim>(CONFIRMATION_ATTEMPTS);
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
    claimAttempt: async (requestId, max) => {
      for (let attempt = 1; attempt <= max; attempt += 1) {
        const doc = { _id: `${requestId}#${String(attempt)}`, requestId, claimedAt: new Date() };
        if (await insertedFirst(() => attempts.insertOne(doc))) return true;
      }
      return false;
    },
  };
};
