import type mongoose from 'mongoose';
import { type Connection, type Model, type QueryFilter } from 'mongoose';
import type { DeletionRequestRepository, InsertOutcome, SubjectCipher } from '../../app/ports.js';
import { DomainError } from '../../domain/domain-error.js';
import {
  deletionStates,
  isTerminal,
  openStates,
  type DeletionState,
} from '../../domain/deletion-state.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';
import { toDocument, toDomain } from './deletion-request-mapper.js';
import { deletionRequestModel, type DeletionRequestDocument } from './deletion-request-model.js';
import { openPersonalData, sealPersonalData } from './sealed-personal-data.js';
import { createVersionClaims } from './version-claims.js';
import { attributeKeys, persistenceSpan } from '../../app/telemetry-catalogue.js';

type Filter = QueryFilter<DeletionRequestDocument>;

type UniqueKey = 'idempotencyKey' | 'activeKey' | '_id';

const indexNames: Record<string, UniqueKey> = {
  idempotency_key_unique: 'idempotencyKey',
  active_key_unique: 'activeKey',
  _id_: '_id',
};

/** The terminal states in which nothing was erased (the subject's key lives on). */
const closedWithoutErasure = deletionStates.filter(
  (state) => isTerminal(state) && state !== 'COMPLETED',
);
/** The unique key an error names: keyPattern/keyValue (MongoDB), else the index name in the message, else unknown. */
const duplicateKeyOf = (
  error: InstanceType<typeof mongoose.mongo.MongoServerError>,
): UniqueKey | 'unknown' => {
  const details = error as { keyPattern?: object; keyValue?: object };
  const fields = Object.keys(details.keyPattern ?? details.keyValue ?? {});
  const byField = (['idempotencyKey', 'activeKey', '_id'] as const).find((key) =>
    fields.includes(key),
  );
  const byIndex = Object.entries(indexNames).find(([name]) => error.message.includes(name))?.[1];
  return byField ?? byIndex ?? 'unknown';
};

const aborted = (reason: string, id: string): DomainError =>
  new DomainError({
    code: 'ABORTED',
    reason,
    message: 'the deletion request conflicts with a stored one; retry',
    metadata: { deletionRequest: id },
  });

/** Which unique index refused `request`; the idempotency key wins when both would. */
const refusal = async (
  model: Model<DeletionRequestDocument>,
  request: DeletionRequest,
  key: UniqueKey | 'unknown',
): Promise<InsertOutcome> => {
  const idempotencyKey = request.idempotencyKey;
  if (
    idempotencyKey !== null &&
    (key === 'idempotencyKey' || (await model.exists({ idempotencyKey })) !== null)
  ) {
    return { kind: 'DUPLICATE_IDEMPOTENCY_KEY' };
  }
  if (key === 'activeKey' || (await model.exists({ activeKey: request.subjectId })) !== null) {
    return { kind: 'DUPLICATE_ACTIVE_SUBJECT' };
  }
  // The request id itself is taken, or the other request vanished meanwhile: a retry decides.
  throw aborted('CONCURRENT_INSERT', request.id);
};

const withId = (id: string) => ({ [attributeKeys.requestId]: id });

/** A claim this old whose version never reached the request: its writer died. */
const ORPHAN_AFTER_MS = 2000;

/** How the server runs filters (see `serverTraits` in mongo-connection.ts). */
export interface RepositoryOptions {
  /**
   * The server scans the whole collection for any filter but a lone `_id`
   * and applies a filtered update as "read, then overwrite" (FerretDB 1.x):
   * writes then read the version by `_id` and overwrite by `_id`, which is
   * what such a server would do anyway, without the scan. Default false
   * (MongoDB: the version guard is part of the atomic update).
   */
  readonly idOnlyFilters?: boolean;
}

/**
 * Deletion requests in MongoDB (or FerretDB). Inserts are guarded by unique
 * indexes (one active request per subject, one request per idempotency key);
 * every change claims its version first (see version-claims.ts), so exactly
 * one writer wins each version, across replicas and on both servers. The
 * subject's personal data is sealed with their data key before anything is
 * written (the request and every claimed snapshot), and opened on read.
 */
export const createMongoDeletionRepository = (
  conn: Connection,
  cipher: SubjectCipher,
  options: RepositoryOptions = {},
): DeletionRequestRepository => {
  const model = deletionRequestModel(conn);
  const claims = createVersionClaims(conn);
  const storedVersion = async (_id: string): Promise<number | null> => {
    const doc = await model.findById(_id, { version: 1 }).lean<{ version: number }>().exec();
    return doc?.version ?? null;
  };
  /**
   * Overwrites the request with `doc` if it is older; true when it did. On a
   * server without atomic filtered updates, a writer that took longer than
   * half the orphan time since `since` (its claim, or its decision to roll
   * one forward) leaves the write to the helpers: by then one may have
   * written this version and others built on it, which a late overwrite
   * would move back.
   */
  const overwriteOlder = async (doc: DeletionRequestDocument, since: number): Promise<boolean> => {
    const { _id, ...fields } = doc;
    if (options.idOnlyFilters) {
      const stored = await storedVersion(_id);
      if (stored === null || stored >= doc.version) return false;
      if (Date.now() - since > ORPHAN_AFTER_MS / 2) return false;
      await model.updateOne({ _id }, { $set: fields }, { runValidators: true }).exec();
      return true;
    }
    const result = await model
      .updateOne({ _id, version: { $lt: doc.version } }, { $set: fields }, { runValidators: true })
      .exec();
    return result.matchedCount === 1;
  };
  /**
   * Writes a claimed version; never moves a request back to an older one.
   * True when the request holds this version or a later one: claims are
   * never deleted and a version can only be claimed by a writer that read
   * the one before it, so a stored version at or past this one passed
   * through this claim's snapshot (written here or rolled forward by a helper).
   */
  const write = async (doc: DeletionRequestDocument, since: number): Promise<boolean> => {
    try {
      if (await overwriteOlder(doc, since)) return true;
      const stored = await storedVersion(doc._id);
      return stored !== null && stored >= doc.version;
    } catch (error) {
      // Only another active request of the subject can collide here, which insert prevents.
      if (isDuplicateKey(error)) throw aborted('DELETION_ALREADY_ACTIVE', doc._id);
      throw error;
    }
  };
  /**
   * Finishes the claimed write of a request whose writer died between claim
   * and write: the claim of the version after the stored one (a version can
   * only be claimed by a writer that read the one before it). A fresh claim
   * is a writer at work, not a dead one: leave it.
   */
  const rollForward = async (id: string): Promise<void> => {
    const stored = await storedVersion(id);
    if (stored === null) return;
    const next = await claims.findClaim(id, stored + 1);
    if (next === null || Date.now() - next.claimedAt.getTime() < ORPHAN_AFTER_MS) return;
    if (next.snapshot === null) await model.deleteOne({ _id: id }).exec();
    else await write(next.snapshot, Date.now());
  };
  const call = <T>(
    method: string,
    spanAttributes: Record<string, string>,
    fn: () => Promise<T>,
  ): Promise<T> => mongoCall(persistenceSpan('deletion_requests', method), spanAttributes, fn);
  const findOne = async (filter: Filter): Promise<DeletionRequest | null> => {
    const doc = await model.findOne(filter).lean<DeletionRequestDocument>().exec();
    return doc && toDomain(await openPersonalData(cipher, doc));
  };
  const findMany = async (
    filter: Filter,
    sort: Record<string, 1 | -1>,
    limit: number,
  ): Promise<DeletionRequest[]> => {
    if (limit <= 0) return []; // a limit of 0 means "no limit" to the server
    const docs = await model
      .find(filter)
      .sort(sort)
      .limit(limit)
      .lean<DeletionRequestDocument[]>()
      .exec();
    return Promise.all(docs.map(async (doc) => toDomain(await openPersonalData(cipher, doc))));
  };

  return {
    insert: (request) =>
      call('insert', withId(request.id), async () => {
        try {
          await model.insertOne(await sealPersonalData(cipher, toDocument(request)));
          return { kind: 'INSERTED' };
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          return refusal(model, request, duplicateKeyOf(error));
        }
      }),
    findById: (id) => call('find_by_id', withId(id), () => findOne({ _id: id })),
    findByIdempotencyKey: (key) =>
      call('find_by_idempotency_key', {}, () => findOne({ idempotencyKey: key })),
    findActiveBySubject: (subjectId) =>
      call('find_active_by_subject', {}, () => findOne({ activeKey: subjectId })),
    remove: (id, expectedVersion) =>
      call('remove', withId(id), async () => {
        if ((await storedVersion(id)) !== expectedVersion) return false;
        if (!(await claims.claimVersion(id, expectedVersion + 1, null))) {
          await rollForward(id);
          return false;
        }
        await model.deleteOne({ _id: id }).exec();
        return true;
      }),
    update: (next, previous) =>
      call('update', withId(next.id), async () => {
        if (next.version !== previous.version + 1) {
          throw new DomainError({
            code: 'INTERNAL',
            reason: 'VERSION_SKIPPED',
            message: 'a change moves one version',
          });
        }
        const doc = await sealPersonalData(cipher, toDocument(next));
        const since = Date.now();
        if (!(await claims.claimVersion(next.id, next.version, doc))) {
          await rollForward(next.id);
          return false;
        }
        const written = await write(doc, since);
        // The older snapshots may hold the subject's contact: drop them before answering (a
        // failed prune leaves them behind; the write itself stands). After the first final
        // version, only the one before is new.
        if (written && isTerminal(next.state)) {
          const from = isTerminal(previous.state) ? previous.version : 1;
          await claims.pruneBelow(next.id, next.version, from).catch(() => undefined);
        }
        return written;
      }),
    reserveConfirmationAttempt: (id, maxAttempts) =>
      call('reserve_confirmation_attempt', withId(id), () => claims.claimAttempt(id, maxAttempts)),
    list: (query) =>
      call('list', {}, () => {
        const filter: Filter = {};
        if (query.state !== undefined) filter.state = query.state;
        if (query.subjectId !== undefined) filter.subjectId = query.subjectId;
        if (query.after !== undefined) {
          const { createdAt, id } = query.after;
          filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }];
        }
        return findMany(filter, { createdAt: -1, _id: -1 }, query.limit);
      }),
    findDueForErasure: (now, limit) =>
      call('find_due_for_erasure', {}, () =>
        findMany(
          {
            $or: [
              { state: 'SCHEDULED', purgeAt: { $lte: now } },
              { state: 'ERASING', leaseUntil: { $lte: now } },
            ],
          },
          { purgeAt: 1, _id: 1 },
          limit,
        ),
      ),
    findNoticesDue: (now, limit) =>
      call('find_notices_due', {}, () =>
        findMany(
          { $or: [{ 'notices.dueAt': { $lte: now } }, { outboxDueAt: { $lte: now } }] },
          // Least recently changed first: one just handled goes to the back of a backlog.
          { updatedAt: 1, _id: 1 },
          limit,
        ),
      ),
    findExpired: (now, limit) =>
      call('find_expired', {}, () =>
        findMany(
          { state: 'REQUESTED', confirmExpireAt: { $lte: now } },
          { confirmExpireAt: 1, _id: 1 },
          limit,
        ),
      ),
    findUnsynced: (before, limit) =>
      call('find_unsynced', {}, () =>
        findMany(
          { accountSynced: false, updatedAt: { $lte: before } },
          { updatedAt: 1, _id: 1 },
          limit,
        ),
      ),
    countOpen: (deadlineBefore) =>
      call('count_open', {}, async () => {
        const open = { state: { $in: openStates } };
        const [groups, nearDeadline] = await Promise.all([
          model
            .aggregate<{ _id: DeletionState; count: number }>([
              { $match: open },
              { $group: { _id: '$state', count: { $sum: 1 } } },
            ])
            .exec(),
          model.countDocuments({ ...open, legalDeadline: { $lt: deadlineBefore } }).exec(),
        ]);
        return {
          byState: Object.fromEntries(groups.map((group) => [group._id, group.count])),
          nearDeadline,
        };
      }),
    findNearDeadline: (before, limit) =>
      call('find_near_deadline', {}, () =>
        findMany(
          { state: { $in: openStates }, legalDeadline: { $lt: before } },
          { legalDeadline: 1, _id: 1 },
          limit,
        ),
      ),
    findRetentionDue: (closedBefore, limit) =>
      call('find_retention_due', {}, () =>
        findMany(
          {
            $or: [
              // Swept, its older snapshots not pruned yet (the prune failed, or the sweeper died).
              { 'retention.snapshotsPruned': false },
              {
                retention: null,
                updatedAt: { $lte: closedBefore },
                // Nothing is still owed: to the subject (the outbox; the final notice is settled
                // before COMPLETED), to linked services (Suspend/Restore) or to the account.
                outboxDueAt: null,
                notices: null,
                accountSynced: true,
                $or: [
                  // A completed request once its subject's key is destroyed (the shredder needs the id).
                  { state: 'COMPLETED', subjectKeyDestroyedAt: { $ne: null } },
                  { state: { $in: closedWithoutErasure } },
                ],
              },
            ],
          },
          { updatedAt: 1, _id: 1 },
          limit,
        ),
      ),
    pruneSnapshots: (id, keepVersion) =>
      call('prune_snapshots', withId(id), () => claims.pruneBelow(id, keepVersion, 1)),
    findUnshredded: (limit) =>
      call('find_unshredded', {}, () =>
        findMany(
          { state: 'COMPLETED', subjectKeyDestroyedAt: null },
          { completedAt: 1, _id: 1 },
          limit,
        ),
      ),
  };
};
