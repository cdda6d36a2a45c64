import { beforeAll } from 'vitest';
import { cacheSubjectKeys } from '../../src/crypto/cached-subject-keys.js';
import { createLocalKeyEncryptionKey } from '../../src/crypto/local-key-encryption-key.js';
import { createSubjectCipher } from '../../src/crypto/subject-cipher.js';
import {
  createMongoSubjectKeyStore,
  migrateKeyVault,
} from '../../src/persistence/mongo/mongo-subject-key-store.js';
import {
  fakeKeyEncryptionKey,
  fakeSubjectCipher,
  fakeSubjectKeyStore,
} from '../support/fakes/subject-keys.js';
import { useTestDatabase } from '../support/test-database.js';
import {
  describeKeyEncryptionKeyContract,
  describeSubjectCipherContract,
  describeSubjectKeyStoreContract,
} from './subject-keys.contract.js';
import { testKek } from './real-database.js';

const vault = useTestDatabase('contract_key_vault');

beforeAll(async () => {
  await migrateKeyVault(vault());
});

const mongoKeys = () => createMongoSubjectKeyStore(vault(), testKek);
/** The key store as production composes it: unwrapped keys cached in each replica. */
const cachedMongoKeys = () => cacheSubjectKeys(mongoKeys(), { ttlMs: 10_000, maxEntries: 100 });

describeSubjectKeyStoreContract('in-memory fake', () => {
  const keys = fakeSubjectKeyStore();
  return Promise.resolve({ keys, replica: () => keys });
});

describeSubjectKeyStoreContract('MongoDB key vault', () =>
  Promise.resolve({ keys: mongoKeys(), replica: mongoKeys }),
);

describeSubjectKeyStoreContract('MongoDB key vault, cached', () =>
  Promise.resolve({ keys: cachedMongoKeys(), replica: cachedMongoKeys }),
);

describeSubjectCipherContract('in-memory fake', () => {
  const keys = fakeSubjectKeyStore();
  return Promise.resolve({ cipher: fakeSubjectCipher(keys), keys });
});

describeSubjectCipherContract('AES-GCM over the MongoDB key vault', () => {
  const keys = mongoKeys();
  return Promise.resolve({ cipher: createSubjectCipher(keys), keys });
});

describeKeyEncryptionKeyContract('in-memory fake', fakeKeyEncryptionKey);

describeKeyEncryptionKeyContract('local KEK', createLocalKeyEncryptionKey);
