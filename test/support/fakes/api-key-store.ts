import type { ApiKeyRecord, ApiKeyStore } from '../../../src/app/ports/api-key-store.js';
import { outageSwitch, type Outage } from './store-away.js';

/** An API key as a test stores it: its name, the hash of the key, and what it may do. */
export interface StoredApiKey {
  readonly name: string;
  readonly hash: string;
  readonly scopes: readonly string[];
  readonly revoked?: boolean;
}

/** API keys in memory. */
export interface FakeApiKeyStore extends ApiKeyStore, Outage {
  /** Stores (or replaces, by name) a key. */
  put(key: StoredApiKey): void;
}

/** A fake API key store. */
export const fakeApiKeyStore = (): FakeApiKeyStore => {
  const keys = new Map<string, StoredApiKey>();
  const outage = outageSwitch();
  return {
    setDown: outage.setDown,
    put: (key) => {
      keys.set(key.name, { ...key, scopes: [...key.scopes] });
    },
    findByHash: (hash) =>
      outage.guard(() => {
        const found = [...keys.values()].find((key) => key.hash === hash);
        return found === undefined
          ? null
          : ({
              name: found.name,
              scopes: [...found.scopes],
              revoked: found.revoked ?? false,
            } satisfies ApiKeyRecord);
      }),
  };
};
