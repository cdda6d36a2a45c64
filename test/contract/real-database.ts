import { inject } from 'vitest';
import { createLocalKeyEncryptionKey } from '../../src/crypto/local-key-encryption-key.js';
import {
  connectMongo,
  disconnectMongo,
  serverTraits,
} from '../../src/persistence/mongo/mongo-connection.js';
import type { WriteProtocol } from '../../src/persistence/mongo/request-writes.js';

/** The collections of the account directory the contract tests use. */
export const accountCollections = {
  accounts: 'accounts',
  sessions: 'sessions',
  apiTokens: 'api_tokens',
} as const;

/** The key-encryption key of the real key stores in the contract tests. */
export const testKek = createLocalKeyEncryptionKey('test-only-data-kek-0123456789abcdef');

/**
 * The write protocols the shared test server makes atomic, as production
 * picks them: version claims on every server, compare-and-set only where a
 * guarded update is atomic (MongoDB; FerretDB 1.x is not).
 */
export const atomicWriteProtocols = async (): Promise<readonly WriteProtocol[]> => {
  const conn = await connectMongo({ uri: inject('mongoUri'), dbName: 'admin' });
  try {
    const { compareAndSet } = await serverTraits(conn);
    return compareAndSet ? ['compare-and-set', 'version-claims'] : ['version-claims'];
  } finally {
    await disconnectMongo(conn);
  }
};
