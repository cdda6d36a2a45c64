import { beforeEach, describe, expect, it } from 'vitest';
import type { BreakerStore } from '../../src/app/ports/breaker-store.js';
import {
  admitErasures,
  initialBreaker,
  resumeErasures,
  type BreakerState,
} from '../../src/domain/erasure-breaker.js';

/** What the contract runs against: an empty breaker record, and more replicas sharing it. */
export interface BreakerStoreSubject {
  readonly store: BreakerStore;
  /** Another replica's store over the same record. */
  readonly replica: () => BreakerStore;
}

const t0 = new Date('2026-12-06T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const policy = { windowMs: 3_600_000, limit: 1000, requesterLimit: 1000 };

/** `state` with `count` more erasures started at `seconds`, as the next version. */
const withStarts = (state: BreakerState, count: number, seconds: number): BreakerState => ({
  ...admitErasures(
    state,
    Array.from({ length: count }, (_, n) => ({
      deletionRequestId: `request-${String(seconds)}-${String(n)}`,
      requester: n % 3 === 0 ? null : `svc-${String(n % 2)}`,
      at: at(seconds),
    })),
    policy,
  ).state,
  version: state.version + 1,
});

/** The contract of BreakerStore: one record, each version written by exactly one writer. */
export const describeBreakerStoreContract = (
  name: string,
  makeSubject: () => Promise<BreakerStoreSubject>,
): void => {
  describe(`BreakerStore contract: ${name}`, () => {
    let store: BreakerStore;
    let replica: BreakerStoreSubject['replica'];
    beforeEach(async () => {
      ({ store, replica } = await makeSubject());
    });

    it('loads the initial breaker from an empty store', async () => {
      expect(await store.load()).toEqual(initialBreaker);
    });

    it('saves the next version on top of the newest, read back whole by every replica', async () => {
      const first = withStarts(await store.load(), 3, 0);
      expect(await store.save(first, initialBreaker)).toBe(true);
      const tripped = {
        ...admitErasures(first, [{ deletionRequestId: 'over', requester: 'svc-1', at: at(10) }], {
          ...policy,
          requesterLimit: 1,
        }).state,
        version: 2,
      };
      expect(tripped.pause).toMatchObject({ reason: 'REQUESTER_LIMIT', requester: 'svc-1' });
      expect(await store.save(tripped, first)).toBe(true);
      const resumed = {
        ...resumeErasures(tripped, { kind: 'USER', id: 'admin-1' }, at(20)).state,
        version: 3,
      };
      expect(await store.save(resumed, tripped)).toBe(true);

      expect(await store.load()).toEqual(resumed);
      expect(await replica().load()).toEqual(resumed);
    });

    it('reads back a state grown over forty saves equal, counts and remembered starts included', async () => {
      let state = await store.load();
      for (let pass = 0; pass < 40; pass += 1) {
        const next = withStarts(state, 20, pass * 90);
        expect(await store.save(next, state)).toBe(true);
        state = next;
      }
      expect(await replica().load()).toEqual(state);
    });

    it('refuses a save on top of a version that is no longer the newest', async () => {
      const first = withStarts(initialBreaker, 1, 0);
      expect(await store.save(first, initialBreaker)).toBe(true);
      const late = withStarts(initialBreaker, 2, 5);
      expect(await replica().save(late, initialBreaker)).toBe(false);
      expect(await store.load()).toEqual(first);
    });

    it('refuses a save that does not move exactly one version', async () => {
      const skipping = { ...withStarts(initialBreaker, 1, 0), version: 2 };
      expect(await store.save(skipping, initialBreaker)).toBe(false);
      const same = { ...withStarts(initialBreaker, 1, 0), version: 0 };
      expect(await store.save(same, initialBreaker)).toBe(false);
      expect(await store.load()).toEqual(initialBreaker);
    });

    it('lets exactly one of ten replicas saving on top of the same version win', async () => {
      const replicas = [store, ...Array.from({ length: 9 }, replica)];
      const base = await store.load();
      const attempts = replicas.map((each, n) => ({ each, next: withStarts(base, n + 1, n) }));
      const results = await Promise.all(attempts.map(({ each, next }) => each.save(next, base)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await replica().load()).toEqual(attempts[results.indexOf(true)]!.next);
    });

    it('answers a cached load with the newest this replica saw; a save on it fails, a fresh load catches up', async () => {
      const other = replica();
      const seen = await store.load();
      const theirs = withStarts(seen, 1, 0);
      expect(await other.save(theirs, seen)).toBe(true);

      const cached = await store.load({ cached: true });
      expect(cached).toEqual(seen);
      expect(await store.save(withStarts(cached, 2, 1), cached)).toBe(false);
      expect(await store.load()).toEqual(theirs);
      // What this replica wrote itself is the newest it saw.
      const mine = withStarts(theirs, 1, 2);
      expect(await store.save(mine, theirs)).toBe(true);
      expect(await store.load({ cached: true })).toEqual(mine);
    });
  });
};
