import type mongoose from 'mongoose';
import { type Connection, type Model, type QueryFilter } from 'mongoose';
import type {
  AuditRecords,
  DeletionRequestRepository,
  InsertOutcome,
} from '../../app/ports/deletion-request-repository.js';
import type { SubjectCipher } from '../../app/ports/subject-keys.js';
import { deletionRequestConflict, versionSkipped } from '../../domain/domain-error.js';
import {
  deletionStates,
  isTerminal,
  openStates,
  type DeletionState,
} from '../../domain/deletion-state.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';
import { auditMarksOf, toDocument, toDomain } from './deletion-request-mapper.js';
import { deletionRequestModel, type DeletionRequestDocument } from './deletion-request-model.js';
import { changeOf } from './request-change.js';
import { countByLinkedService, countRequests, listQueryOf } from './request-queries.js';
import { createCompareAndSetWrites, reserveAttempt, type WriteProtocol } from './request-writes.js';
import {
  openPersonalData,
  personalDataChanged,
  sealPersonalData,
  withoutPersonalData,
} from './sealed-personal-data.js';
import { createVersionClaimWrites } from './version-claims.js';
import { attributeKeys, persistenceSpan } from '../../telemetry/catalogue.js';

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
  throw deletionRequestConflict('CONCURRENT_INSERT', request.id);
};

const withId = (id: string) => ({ [attributeKeys.requestId]: id });

/** The fields of a stored request that say what calls for audit events, and what is in. */
type AuditMarkedFields =
  | '_id'
  | 'history'
  | 'auditedThrough'
  | 'auditedNotices'
  | 'auditedAnswers'
  | 'auditedAlerts'
  | 'participants'
  | 'sentNotices'
  | 'ownerAlerts';

/** What a stored request records that calls for audit events. */
const auditRecordsOf = (doc: Pick<DeletionRequestDocument, AuditMarkedFields>): AuditRecords => ({
  id: doc._id as DeletionRequestId,
  changes: doc.history.map(({ from, to, at }) => ({ from, to, at })),
  audited: auditMarksOf(doc),
  answers: Object.entries(doc.participants ?? {}).flatMap(([participant, step]) =>
    step.outcome === null ? [] : [{ participant, outcome: step.outcome.kind, at: step.updatedAt }],
  ),
  notices: (doc.sentNotices ?? []).map(({ key, at }) => ({ key, at })),
  alerts: (doc.ownerAlerts ?? []).flatMap(({ participant, status, settledAt }) =>
    status === 'OWED' || settledAt === null ? [] : [{ participant, at: settledAt }],
  ),
});

/**
 * Which stored snapshots (see version-claims.ts) a change makes worth
 * dropping at once: those that may hold the subject's personal data once
 * the request is closed with its data key kept (cancelled, rejected,
 * expired); after the first final version only the one before is new. A
 * completed request's key is destroyed next, which makes them unreadable:
 * the retention sweep prunes those.
 */
const pruneFrom = (next: DeletionRequest, previous: DeletionRequest): number | null => {
  if (!isTerminal(next.state) || next.state === 'COMPLETED') return null;
  return isTerminal(previous.state) ? previous.version : 1;
};

/** How the repository makes its writes atomic (see request-writes.ts). */
export interface RepositoryOptions {
  /** Default `compare-and-set` (MongoDB); FerretDB 1.x needs `version-claims`. */
  readonly protocol?: WriteProtocol;
}

/**
 * Deletion requests in MongoDB (or FerretDB). Inserts are guarded by unique
 * indexes (one active request per subject, one request per idempotency key);
 * every change is guarded by the version (request-writes.ts), so exactly one
 * writer wins each version, across replicas, and sends only what changed.
 * The subject's personal data is sealed with their data key before anything
 * is written, and opened on read.
 */
export const createMongoDeletionRepository = (
  conn: Connection,
  cipher: SubjectCipher,
  options: RepositoryOptions = {},
): DeletionRequestRepository => {
  const model = deletionRequestModel(conn);
  const writes =
    options.protocol === 'version-claims'
      ? createVersionClaimWrites(conn, model)
      : createCompareAndSetWrites(model);
  const reserve = reserveAttempt(conn);
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
    findById: (id, scope) =>
      call('find_by_id', withId(id), () =>
        findOne(scope === undefined ? { _id: id } : { _id: id, subjectId: scope.subjectId }),
      ),
    findByIdempotencyKey: (key) =>
      call('find_by_idempotency_key', {}, () => findOne({ idempotencyKey: key })),
    findActiveBySubject: (subjectId) =>
      call('find_active_by_subject', {}, () => findOne({ activeKey: subjectId })),
    remove: (id, expectedVersion) =>
      call('remove', withId(id), () => writes.remove(id, expectedVersion)),
    update: (next, previous) =>
      call('update', withId(next.id), async () => {
        if (next.version !== previous.version + 1) throw versionSkipped();
        const before = toDocument(previous);
        const after = toDocument(next);
        let sealed: Promise<DeletionRequestDocument> | undefined;
        const document = () => (sealed ??= sealPersonalData(cipher, after));
        const update = changeOf(withoutPersonalData(before), withoutPersonalData(after));
        if (personalDataChanged(before, after)) update.$set.sealed = (await document()).sealed;
        try {
          return await writes.update({
            id: next.id,
            version: next.version,
            update,
            document,
            pruneFrom: pruneFrom(next, previous),
          });
        } catch (error) {
          // Only another active request of the subject can collide here, which insert prevents.
          if (isDuplicateKey(error))
            throw deletionRequestConflict('DELETION_ALREADY_ACTIVE', next.id);
          throw error;
        }
      }),
    reserveConfirmationAttempt: (id, maxAttempts) =>
      call('reserve_confirmation_attempt', withId(id), () => reserve(id, maxAttempts)),
    list: (query) =>
      call('list', {}, () => {
        const { filter, sort } = listQueryOf(query);
        return findMany(filter, sort, query.limit);
      }),
    count: (query) => call('count', {}, () => countRequests(model, query)),
    countByLinkedService: (names) =>
      call('count_by_linked_service', {}, () => countByLinkedService(model, names)),
    findDueForErasure: (now, limit) =>
      call('find_due_for_erasure', {}, async () => {
        // Two queries, each led by an equality on the state (one `$or` would reach every request
        // on FerretDB 1.x): the purges due to start, then those whose lease ran out.
        const [starting, stalled] = await Promise.all([
          findMany({ state: 'SCHEDULED', purgeAt: { $lte: now } }, { purgeAt: 1, _id: 1 }, limit),
          findMany({ state: 'ERASING', leaseUntil: { $lte: now } }, { purgeAt: 1, _id: 1 }, limit),
        ]);
        return [...starting, ...stalled]
          .sort(
            (a, b) =>
              (a.purgeAt?.getTime() ?? 0) - (b.purgeAt?.getTime() ?? 0) || a.id.localeCompare(b.id),
          )
          .slice(0, limit);
      }),
    findNoticesDue: (now, limit) =>
      call('find_notices_due', {}, () =>
        findMany(
          {
            noticesOwed: true,
            $or: [{ 'notices.dueAt': { $lte: now } }, { outboxDueAt: { $lte: now } }],
          },
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
                // before COMPLETED), to linked services (Suspend/Restore), to the account or to the
                // audit log.
                outboxDueAt: null,
                auditDueAt: null,
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
    findAuditDue: (before, limit) =>
      call('find_audit_due', {}, () =>
        findMany({ auditDueAt: { $lte: before } }, { auditDueAt: 1, _id: 1 }, limit),
      ),
    listAuditRecords: (afterId, limit) =>
      call('list_audit_records', {}, async () => {
        if (limit <= 0) return [];
        const docs = await model
          .find({ _id: { $gt: afterId } })
          .sort({ _id: 1 })
          .limit(limit)
          .select({
            history: 1,
            auditedThrough: 1,
            auditedNotices: 1,
            auditedAnswers: 1,
            auditedAlerts: 1,
            participants: 1,
            sentNotices: 1,
            ownerAlerts: 1,
          })
          .lean<Pick<DeletionRequestDocument, AuditMarkedFields>[]>()
          .exec();
        return docs.map((doc) => auditRecordsOf(doc));
      }),
    pruneSnapshots: (id, keepVersion) =>
      call('prune_snapshots', withId(id), () => writes.pruneSnapshots(id, keepVersion)),
    findUnshredded: (limit) =>
      call('find_unshredded', {}, () =>
        findMany(
          { keyToShred: true, state: 'COMPLETED', subjectKeyDestroyedAt: null },
          { completedAt: 1, _id: 1 },
          limit,
        ),
      ),
  };
};
