import { createMongoErasureBreaker } from '../../src/persistence/mongo/mongo-erasure-breaker.js';
import { fakeBreakerStore } from '../support/fakes/breaker-store.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeBreakerStoreContract } from './breaker-store.contract.js';

const db = useTestDatabase('contract_breaker');

describeBreakerStoreContract('in-memory fake', () => {
  const store = fakeBreakerStore();
  return Promise.resolve({ store, replica: () => store.replica() });
});

describeBreakerStoreContract('MongoDB adapter', async () => {
  await db().collection('erasure_breaker').deleteMany({});
  return { store: createMongoErasureBreaker(db()), replica: () => createMongoErasureBreaker(db()) };
});
