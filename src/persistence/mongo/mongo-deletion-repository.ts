import mongoose, { type Connection, type Model, type QueryFilter } from 'mongoose';
import type { DeletionRequestRepository, InsertOutcome } from '../../app/ports.js';
import { DomainError } from '../../domain/domain-error.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import type { Actor } from '../../domain/principal.js';
import { mongoCall } from './classify-mongo-error.js';
import {
  activeKeyOf,
  deletionRequestModel,
  idempotencyKeyOf,
  storedIdempotencyKey,
  type DeletionRequestDocument,
} from './deletion-request-model.js';

type Filter = QueryFilter<DeletionRequestDocument>;

const actor = (a: Actor): Actor => ({ kind: a.kind, id: a.id });

/** The stored form of a request; `activeKey` and the idempotency key are derived here. */
const toDocument = (r: DeletionRequest): DeletionRequestDocument => ({
  _id: r.id,
  subjectId: r.subjectId,
  requester: actor(r.requester),
  reason: r.reason,
  state: r.state,
  version: r.version,
  riskReasons: [...r.riskReasons],
  jurisdiction: r.jurisdiction,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  confirmExpireAt: r.confirmExpireAt,
  confirmationMethod: r.confirmationMethod,
  verification: r.verification && {
    codeHash: r.verification.codeHash,
    attempts: r.verification.attempts,
  },
  deletedAt: r.deletedAt,
  purgeAt: r.purgeAt,
  completedAt: r.completedAt,
  legalDeadline: r.legalDeadline,
  reviewer: r.reviewer && actor(r.reviewer),
  reviewNote: r.reviewNote,
  accountSynced: r.accountSynced,
  leaseOwner: r.leaseOwner,
  leaseUntil: r.leaseUntil,
  idempotencyKey: storedIdempotencyKey(r.id, r.idempotencyKey),
  requestFingerprint: r.requestFingerprint,
  history: r.history.map((c) => ({
    from: c.from,
    to: c.to,
    actor: actor(c.actor),
    at: c.at,
    note: c.note,
    traceId: c.traceId,
  })),
  activeKey: activeKeyOf(r),
});

const toDomain = (d: DeletionRequestDocument): DeletionRequest => ({
  id: d._id as DeletionRequestId,
  subjectId: d.subjectId as SubjectId,
  requester: actor(d.requester),
  reason: d.reason,
  state: d.state,
  version: d.version,
  riskReasons: [...d.riskReasons],
  jurisdiction: d.jurisdiction,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
  confirmExpireAt: d.confirmExpireAt,
  confirmationMethod: d.confirmationMethod,
  verification: d.verification && {
    codeHash: d.verification.codeHash,
    attempts: d.verification.attempts,
  },
  deletedAt: d.deletedAt,
  purgeAt: d.purgeAt,
  completedAt: d.completedAt,
  legalDeadline: d.legalDeadline,
  reviewer: d.reviewer && actor(d.reviewer),
  reviewNote: d.reviewNote,
  accountSynced: d.accountSynced,
  leaseOwner: d.leaseOwner,
  leaseUntil: d.leaseUntil,
  idempotencyKey: idempotencyKeyOf(d._id, d.idempotencyKey),
  requestFingerprint: d.requestFingerprint,
  history: d.history.map((c) => ({
    from: c.from,
    to: c.to,
    actor: actor(c.actor),
    at: c.at,
    note: c.note,
    traceId: c.traceId,
  })),
});

type UniqueKey = 'idempotencyKey' | 'activeKey' | '_id';

const indexNames: Record<string, UniqueKey> = {
  idempotency_key_unique: 'idempotencyKey',
  active_key_unique: 'activeKey',
  _id_: '_id',
};

/**
 * Whether a unique index refused a write: E11000, or (FerretDB 1.24, on update)
 * an internal error carrying SQLite's "UNIQUE constraint failed".
 */
const isDuplicateKey = (
  error: unknown,
): error is InstanceType<typeof mongoose.mongo.MongoServerError> =>
  error instanceof mongoose.mongo.MongoServerError &&
  (error.code === 11000 || error.message.includes('UNIQUE constraint failed'));

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

const withId = (id: string) => ({ 'deletion.request_id': id });

/** Deletion requests in MongoDB (or FerretDB): each change is one atomic, version-guarded update. */
export const createMongoDeletionRepository = (conn: Connection): DeletionRequestRepository => {
  const model = deletionRequestModel(conn);
  const call = <T>(
    method: string,
    attributes: Record<string, string>,
    fn: () => Promise<T>,
  ): Promise<T> => mongoCall(`persistence.deletion_requests.${method}`, attributes, fn);
  const findOne = async (filter: Filter): Promise<DeletionRequest | null> => {
    const doc = await model.findOne(filter).lean<DeletionRequestDocument>().exec();
    return doc && toDomain(doc);
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
    return docs.map(toDomain);
  };

  return {
    insert: (request) =>
      call('insert', withId(request.id), async () => {
        try {
          await model.insertOne(toDocument(request));
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
        const result = await model.deleteOne({ _id: id, version: expectedVersion }).exec();
        return result.deletedCount === 1;
      }),
    update: (next, expectedVersion) =>
      call('update', withId(next.id), async () => {
        const { _id, ...fields } = toDocument(next);
        try {
          const result = await model
            .updateOne({ _id, version: expectedVersion }, { $set: fields }, { runValidators: true })
            .exec();
          return result.matchedCount === 1;
        } catch (error) {
          // Only another active request of the subject can collide here, which insert prevents.
          if (isDuplicateKey(error)) throw aborted('DELETION_ALREADY_ACTIVE', next.id);
          throw error;
        }
      }),
    reserveConfirmationAttempt: (id, maxAttempts) =>
      call('reserve_confirmation_attempt', withId(id), async () => {
        // No version bump: a counted attempt must not fail a concurrent, correct confirmation.
        const filter = {
          _id: id,
          state: 'REQUESTED',
          'verification.attempts': { $lt: maxAttempts },
        } as const;
        const result = await model
          .updateOne(filter, { $inc: { 'verification.attempts': 1 } })
          .exec();
        return result.matchedCount === 1;
      }),
    markAccountSynced: (id, version) =>
      call('mark_account_synced', withId(id), async () => {
        const result = await model
          .updateOne({ _id: id, version }, { $set: { accountSynced: true } })
          .exec();
        return result.matchedCount === 1;
      }),
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
  };
};
