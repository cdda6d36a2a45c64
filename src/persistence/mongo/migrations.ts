import type { Connection } from 'mongoose';
import { mongoCall } from './classify-mongo-error.js';
import { DELETION_REQUESTS, deletionRequestIndexes } from './deletion-request-model.js';
import type { AccountCollectionNames } from './mongo-account-directory.js';

const bySubject = { key: { subjectId: 1 }, name: 'subject_id' } as const;

/**
 * Creates every index the service relies on, with only `key`, `name` and
 * `unique` (all FerretDB 1.24 supports). Creating an existing index is a
 * no-op, so this runs at every start. Throws UNAVAILABLE when the database is away.
 */
export const migrate = (conn: Connection, names: AccountCollectionNames): Promise<void> =>
  mongoCall('persistence.migrate', {}, async () => {
    await conn.collection(DELETION_REQUESTS).createIndexes(
      deletionRequestIndexes.map((index) => ({
        key: index.key,
        name: index.name,
        ...('unique' in index ? { unique: index.unique } : {}),
      })),
    );
    await conn.collection(names.sessions).createIndexes([bySubject]);
    await conn.collection(names.apiTokens).createIndexes([bySubject]);
  });
