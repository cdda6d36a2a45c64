import { beforeAll } from 'vitest';
import { createSubjectCipher } from '../../src/crypto/subject-cipher.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import {
  createMongoAccountDirectory,
  sealAccountContact,
} from '../../src/persistence/mongo/mongo-account-directory.js';
import { createMongoSubjectKeyStore } from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { fakeAccountDirectory } from '../support/fakes/account-directory.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeAccountDirectoryContract } from './account-directory.contract.js';
import { accountCollections, testKek } from './real-database.js';

const db = useTestDatabase('contract_accounts');
const vault = useTestDatabase('contract_accounts_keys');

beforeAll(async () => {
  await migrate(db(), accountCollections);
});

describeAccountDirectoryContract('in-memory fake', () => {
  const directory = fakeAccountDirectory();
  return Promise.resolve({
    directory,
    seed: (account) => Promise.resolve(directory.seed(account)),
  });
});

describeAccountDirectoryContract('MongoDB adapter', () => {
  const cipher = createSubjectCipher(createMongoSubjectKeyStore(vault(), testKek));
  const owned = (count: number | undefined, subjectId: string) =>
    Array.from({ length: count ?? 0 }, (_, n) => ({ subjectId, n }));
  return Promise.resolve({
    directory: createMongoAccountDirectory(db(), accountCollections, cipher),
    seed: async ({ subjectId, deactivated, sessions, apiTokens, ...fields }) => {
      // As the directory's writers store an account: its contact sealed under the subject's key.
      const account = await sealAccountContact(cipher, {
        _id: subjectId,
        ...fields,
        status: deactivated === true ? 'DEACTIVATED' : 'ACTIVE',
      });
      await db()
        .collection(accountCollections.accounts)
        .insertOne(account as never);
      for (const [collection, count] of [
        [accountCollections.sessions, sessions],
        [accountCollections.apiTokens, apiTokens],
      ] as const) {
        const docs = owned(count, subjectId);
        if (docs.length > 0) await db().collection(collection).insertMany(docs);
      }
    },
  });
});
