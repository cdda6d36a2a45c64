import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyStore } from '../../src/app/ports/api-key-store.js';
import type { StoredApiKey } from '../support/fakes/api-key-store.js';

/** What the contract runs against: the store, and how a key gets into it (by whoever issues keys). */
export interface ApiKeyStoreSubject {
  readonly store: ApiKeyStore;
  readonly put: (key: StoredApiKey) => Promise<void>;
}

const aKey = (overrides: Partial<StoredApiKey> = {}): StoredApiKey => ({
  name: `tool-${randomUUID()}`,
  hash: `hash-${randomUUID()}`,
  scopes: ['deletion:read', 'deletion:request'],
  ...overrides,
});

/** The contract of ApiKeyStore: a key is found by its hash alone, with its scopes and whether it is revoked. */
export const describeApiKeyStoreContract = (
  name: string,
  makeSubject: () => Promise<ApiKeyStoreSubject>,
): void => {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let subject: ApiKeyStoreSubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });

    it('finds a key by its hash, with its name and scopes', async () => {
      const key = aKey();
      const other = aKey({ scopes: ['deletion:admin'] });
      await subject.put(key);
      await subject.put(other);
      expect(await subject.store.findByHash(key.hash)).toEqual({
        name: key.name,
        scopes: ['deletion:read', 'deletion:request'],
        revoked: false,
      });
      expect(await subject.store.findByHash(other.hash)).toMatchObject({
        name: other.name,
        scopes: ['deletion:admin'],
      });
    });

    it('answers null for a hash no key has', async () => {
      await subject.put(aKey());
      expect(await subject.store.findByHash(`hash-${randomUUID()}`)).toBeNull();
      expect(await subject.store.findByHash('')).toBeNull();
    });

    it('says a revoked key is revoked', async () => {
      const key = aKey({ revoked: true });
      await subject.put(key);
      expect(await subject.store.findByHash(key.hash)).toEqual({
        name: key.name,
        scopes: [...key.scopes],
        revoked: true,
      });
    });
  });
};
