import { beforeAll } from 'vitest';
import { createRateLimitKeys } from '../../src/crypto/rate-limit-keys.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import {
  createMongoRateLimiter,
  RATE_LIMITS,
} from '../../src/persistence/mongo/mongo-rate-limiter.js';
import { RATE_LIMIT_POSITIONS } from '../../src/persistence/mongo/rate-limit-positions.js';
import { RATE_LIMIT_SLOTS } from '../../src/persistence/mongo/rate-limit-slots.js';
import { fakeRateLimiter } from '../support/fakes/rate-limiter.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeRateLimiterContract } from './rate-limiter.contract.js';
import { accountCollections, atomicWriteProtocols } from './real-database.js';

const db = useTestDatabase('contract_rate_limits');

beforeAll(async () => {
  await migrate(db(), accountCollections);
});

describeRateLimiterContract('in-memory fake', (options) =>
  Promise.resolve(fakeRateLimiter(options)),
);

for (const protocol of await atomicWriteProtocols()) {
  describeRateLimiterContract(`MongoDB adapter (${protocol})`, async ({ budgets, clock }) => {
    await Promise.all(
      [RATE_LIMITS, RATE_LIMIT_SLOTS, RATE_LIMIT_POSITIONS].map((name) =>
        db().collection(name).deleteMany({}),
      ),
    );
    return createMongoRateLimiter(db(), {
      budgets,
      digest: createRateLimitKeys('test-only-rate-limit-key-0123456789'),
      clock,
      protocol,
    });
  });
}
