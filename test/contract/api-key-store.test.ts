import {
  API_KEYS_COLLECTION,
  createMongoApiKeyStore,
  putApiKey,
} from '../../src/persistence/mongo/mongo-api-key-store.js';
import { fakeApiKeyStore } from '../support/fakes/api-key-store.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeApiKeyStoreContract } from './api-key-store.contract.js';

const db = useTestDatabase('contract_api_keys');

describeApiKeyStoreContract('in-memory fake', () => {
  const store = fakeApiKeyStore();
  return Promise.resolve({ store, put: (key) => Promise.resolve(store.put(key)) });
});

describeApiKeyStoreContract('MongoDB adapter', () =>
  Promise.resolve({
    store: createMongoApiKeyStore(db()),
    put: async (key) => {
      await putApiKey(db(), key);
      if (key.revoked === true)
        await db()
          .collection<{ _id: string }>(API_KEYS_COLLECTION)
          .updateOne({ _id: key.name }, { $set: { revoked: true } });
    },
  }),
);
