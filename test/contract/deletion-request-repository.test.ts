import { beforeAll } from 'vitest';
import { createSubjectCipher } from '../../src/crypto/subject-cipher.js';
import { DELETION_REQUESTS } from '../../src/persistence/mongo/deletion-request-model.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import { createMongoDeletionRepository } from '../../src/persistence/mongo/mongo-deletion-repository.js';
import {
  createMongoSubjectKeyStore,
  migrateKeyVault,
} from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { DELETION_REQUEST_VERSIONS } from '../../src/persistence/mongo/version-claims.js';
import { fakeDeletionRequestRepository } from '../support/fakes/deletion-request-repository.js';
import { fakeSubjectCipher, fakeSubjectKeyStore } from '../support/fakes/subject-keys.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeDeletionRequestRepositoryContract } from './deletion-request-repository.contract.js';
import { accountCollections, atomicWriteProtocols, testKek } from './real-database.js';

const db = useTestDatabase('contract_requests');
const vault = useTestDatabase('contract_requests_keys');

beforeAll(async () => {
  await migrate(db(), accountCollections);
  await migrateKeyVault(vault());
});

describeDeletionRequestRepositoryContract('in-memory fake', () => {
  const keys = fakeSubjectKeyStore();
  return Promise.resolve({ repo: fakeDeletionRequestRepository(fakeSubjectCipher(keys)), keys });
});

for (const protocol of await atomicWriteProtocols()) {
  describeDeletionRequestRepositoryContract(`MongoDB adapter (${protocol})`, async () => {
    await Promise.all(
      [DELETION_REQUESTS, DELETION_REQUEST_VERSIONS].map((name) =>
        db().collection(name).deleteMany({}),
      ),
    );
    const keys = createMongoSubjectKeyStore(vault(), testKek);
    return {
      repo: createMongoDeletionRepository(db(), createSubjectCipher(keys), { protocol }),
      keys,
    };
  });
}
