import { describe, expect, it } from 'vitest';
import type { SubjectKeyStore } from '../../../src/app/ports/subject-keys.js';
import { cacheSubjectKeys } from '../../../src/crypto/cached-subject-keys.js';
import type { SubjectId } from '../../../src/domain/ids.js';

/** A key vault in memory that counts how often it is asked. */
const vault = () => {
  const keys = new Map<string, Uint8Array>();
  const asked = { find: 0, getOrCreate: 0 };
  const store: SubjectKeyStore = {
    getOrCreate: (subjectId) => {
      asked.getOrCreate += 1;
      const key = keys.get(subjectId) ?? new Uint8Array([keys.size + 1]);
      keys.set(subjectId, key);
      return Promise.resolve(key);
    },
    find: (subjectId) => {
      asked.find += 1;
      return Promise.resolve(keys.get(subjectId) ?? null);
    },
    destroy: (subjectId) => {
      keys.delete(subjectId);
      return Promise.resolve();
    },
  };
  return { keys, asked, store };
};

/** A clock of a real epoch: lru-cache reads an entry stored at time 0 as one without a TTL. */
const T0 = Date.parse('2026-01-01T00:00:00Z');

const ana = 'ana' as SubjectId;
const bob = 'bob' as SubjectId;

describe('cached subject keys', () => {
  it('serves a key it used within the time to live without asking the vault', async () => {
    let now = T0;
    const { asked, store } = vault();
    const keys = cacheSubjectKeys(store, { ttlMs: 10_000, maxEntries: 10, now: () => now });
    const made = await keys.getOrCreate(ana);
    expect(await keys.find(ana)).toBe(made);
    expect(await keys.getOrCreate(ana)).toBe(made);
    expect(asked).toEqual({ getOrCreate: 1, find: 0 });
    now = T0 + 10_001;
    expect(await keys.find(ana)).toBe(made);
    expect(asked.find).toBe(1);
  });

  it('forgets a key it destroys at once, and never caches an absent one', async () => {
    const { asked, store } = vault();
    const keys = cacheSubjectKeys(store, { ttlMs: 10_000, maxEntries: 10 });
    expect(await keys.find(ana)).toBeNull();
    await store.getOrCreate(ana); // made by another replica
    expect(await keys.find(ana)).not.toBeNull();
    await keys.destroy(ana);
    expect(await keys.find(ana)).toBeNull();
    expect(asked.find).toBe(3);
  });

  it('keeps a key another replica destroyed for at most the time to live', async () => {
    let now = T0;
    const { store } = vault();
    const keys = cacheSubjectKeys(store, { ttlMs: 5_000, maxEntries: 10, now: () => now });
    await keys.getOrCreate(ana);
    await store.destroy(ana); // another replica
    now = T0 + 5_000;
    expect(await keys.find(ana)).not.toBeNull();
    now = T0 + 5_001;
    expect(await keys.find(ana)).toBeNull();
  });

  it('drops the least recently used key past its size', async () => {
    const { asked, store } = vault();
    const keys = cacheSubjectKeys(store, { ttlMs: 10_000, maxEntries: 1 });
    await keys.getOrCreate(ana);
    await keys.getOrCreate(bob);
    await keys.find(ana);
    expect(asked.find).toBe(1);
  });

  it('is the vault itself with a time to live of 0', () => {
    const { store } = vault();
    expect(cacheSubjectKeys(store, { ttlMs: 0, maxEntries: 10 })).toBe(store);
  });
});
