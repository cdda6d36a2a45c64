import type { Connection } from 'mongoose';
import { mongoCall } from './classify-mongo-error.js';
import { DELETION_REQUESTS, deletionRequestIndexes } from './deletion-request-model.js';
import { AUDIT_EVENTS, auditEventIndexes, markFactsAudited } from './mongo-audit-log.js';
import type { AccountCollectionNames } from './mongo-account-directory.js';
import { RATE_LIMITS, rateLimitIndexes } from './mongo-rate-limiter.js';
import { RATE_LIMIT_SLOTS, rateLimitSlotIndexes } from './rate-limit-slots.js';
import { DELETION_REQUEST_VERSIONS } from './version-claims.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';

interface IndexSpec {
  readonly key: Readonly<Record<string, 1 | -1>>;
  readonly name: string;
  readonly unique?: true;
}

const bySubject: IndexSpec = { key: { subjectId: 1 }, name: 'subject_id' };

/** Indexes earlier versions created that no query uses any more (each costs every insert). */
const retired: readonly [collection: string, index: string][] = [
  [DELETION_REQUEST_VERSIONS, 'request_version'],
];

const NAMESPACE_NOT_FOUND = 26;

/** The index names of a collection; none when the collection does not exist yet. */
const indexNames = async (conn: Connection, collection: string): Promise<string[]> => {
  try {
    return (await conn.collection(collection).indexes()).flatMap((index) => index.name ?? []);
  } catch (error) {
    if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
};

/**
 * Sets the flags the worker's queries lead with (`noticesOwed`, `keyToShred`)
 * on requests stored before they existed; every write keeps them since. Once
 * done, each start finds nothing to set.
 */
const deriveWorkFlags = async (conn: Connection): Promise<void> => {
  const requests = conn.collection(DELETION_REQUESTS);
  await requests.updateMany(
    {
      noticesOwed: { $exists: false },
      $or: [{ notices: { $ne: null } }, { outboxDueAt: { $ne: null } }],
    },
    { $set: { noticesOwed: true } },
  );
  await requests.updateMany(
    { keyToShred: { $exists: false }, state: 'COMPLETED', subjectKeyDestroyedAt: null },
    { $set: { keyToShred: true } },
  );
};

/**
 * Creates every index the service relies on, with only `key`, `name` and
 * `unique` (all FerretDB 1.24 supports), and drops retired ones. Creating an
 * existing index is a no-op, so this runs at every start. Throws UNAVAILABLE when the database is away.
 */
export const migrate = (conn: Connection, names: AccountCollectionNames): Promise<void> =>
  mongoCall(persistenceSpan('migrate'), {}, async () => {
    const plan: [string, readonly IndexSpec[]][] = [
      [DELETION_REQUESTS, deletionRequestIndexes],
      [AUDIT_EVENTS, auditEventIndexes],
      [RATE_LIMITS, rateLimitIndexes],
      [RATE_LIMIT_SLOTS, rateLimitSlotIndexes],
      [names.sessions, [bySubject]],
      [names.apiTokens, [bySubject]],
    ];
    for (const [collection, indexes] of plan) {
      // One index per command: FerretDB 1.24 drops the connection when a batch holds only existing indexes.
      for (const index of indexes) {
        await conn.collection(collection).createIndexes([{ ...index, key: { ...index.key } }]);
      }
    }
    await deriveWorkFlags(conn);
    await markFactsAudited(conn);
    for (const [collection, index] of retired) {
      if ((await indexNames(conn, collection)).includes(index))
        await conn.collection(collection).dropIndex(index);
    }
  });
