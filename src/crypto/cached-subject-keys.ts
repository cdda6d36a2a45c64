import { LRUCache } from 'lru-cache';
import type { SubjectKeyStore } from '../app/ports/subject-keys.js';
import type { SubjectId } from '../domain/ids.js';

/** How long and how many unwrapped keys one replica keeps. */
export interface SubjectKeyCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

/**
 * Keeps the subject keys this replica used in the last `ttlMs` (unwrapped, in
 * memory only, at most `maxEntries`, least recently used dropped first), so a
 * read of a request costs one database round trip, not two (the key vault's).
 * A key destroyed here is dropped from the cache before the vault; one
 * destroyed by another replica stays usable here for at most `ttlMs`. Absent
 * keys are never cached, so a key made by another replica is seen at once.
 * `ttlMs` 0 turns the cache off.
 */
export const cacheSubjectKeys = (
  store: SubjectKeyStore,
  options: SubjectKeyCacheOptions,
): SubjectKeyStore => {
  if (options.ttlMs <= 0) return store;
  const now = options.now ?? Date.now;
  // ttlResolution 0: staleness is checked against `now` every time (a test's clock jumps).
  const entries = new LRUCache<SubjectId, Uint8Array>({
    max: options.maxEntries,
    ttl: options.ttlMs,
    ttlResolution: 0,
    perf: { now },
  });
  const cached = (subjectId: SubjectId): Uint8Array | undefined => entries.get(subjectId);
  const keep = (subjectId: SubjectId, key: Uint8Array): Uint8Array => {
    entries.set(subjectId, key);
    return key;
  };
  return {
    getOrCreate: async (subjectId) =>
      cached(subjectId) ?? keep(subjectId, await store.getOrCreate(subjectId)),
    find: async (subjectId) => {
      const hit = cached(subjectId);
      if (hit !== undefined) return hit;
      const found = await store.find(subjectId);
      return found === null ? null : keep(subjectId, found);
    },
    destroy: async (subjectId) => {
      entries.delete(subjectId);
      await store.destroy(subjectId);
      // A read that raced the destruction may have put it back: drop it again.
      entries.delete(subjectId);
    },
  };
};
