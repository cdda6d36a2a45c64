import { describe, expect, it } from 'vitest';
import {
  admitErasures,
  startedInWindow,
  type BreakerState,
} from '../../src/domain/erasure-breaker.js';
import { createMongoErasureBreaker } from '../../src/persistence/mongo/mongo-erasure-breaker.js';
import { useTestDatabase } from '../support/test-database.js';

const db = useTestDatabase('test_breaker');
/** A database of its own for versions written by an earlier version of the service. */
const legacyDb = useTestDatabase('test_breaker_legacy');

const t0 = new Date('2026-12-06T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const policy = { windowMs: 3_600_000, limit: 1000, requesterLimit: 1000 };

// What every breaker store must do is pinned by test/contract/breaker-store.contract.ts (against
// this adapter and the fake); here: how MongoDB keeps it, and versions of earlier releases.

describe('the breaker in MongoDB', () => {
  it('stores counts by stretch: the record stays small however many erasures start', async () => {
    const store = createMongoErasureBreaker(db());
    let state: BreakerState = await store.load();
    for (let pass = 0; pass < 40; pass += 1) {
      const starts = Array.from({ length: 20 }, (_, n) => ({
        deletionRequestId: `request-${String(pass)}-${String(n)}`,
        requester: `svc-${String(n % 2)}`,
        at: at(pass * 90),
      }));
      const next = { ...admitErasures(state, starts, policy).state, version: state.version + 1 };
      await store.save(next, state);
      state = next;
    }
    const newest = await db()
      .collection('erasure_breaker')
      .findOne({ _id: state.version as never });
    expect(newest).not.toBeNull();
    // 800 starts, two requesters; only the last minute's requests are remembered by id.
    expect(JSON.stringify(newest).length).toBeLessThan(10_000);
  });

  it('reads a version written before stretches: each listed start still counts and is remembered', async () => {
    const legacy = legacyDb();
    await legacy.collection('erasure_breaker').insertOne({
      _id: 1 as never,
      starts: [
        { deletionRequestId: 'old-1', requester: 'svc', at: at(0) },
        { deletionRequestId: 'old-2', requester: null, at: at(10) },
      ],
      pause: null,
      resumed: null,
    });
    const state = await createMongoErasureBreaker(legacy).load();
    expect(state.version).toBe(1);
    expect(startedInWindow(state, at(20), policy)).toBe(2);
    expect(startedInWindow(state, at(3600.005), policy)).toBe(1);
    const again = admitErasures(
      state,
      [{ deletionRequestId: 'old-1', requester: 'svc', at: at(20) }],
      { ...policy, requesterLimit: 1 },
    );
    expect(again).toEqual({ state, admissions: ['ADMITTED'] });
    const more = admitErasures(
      state,
      [{ deletionRequestId: 'new-1', requester: 'svc', at: at(20) }],
      { ...policy, requesterLimit: 1 },
    );
    expect(more.admissions).toEqual(['TRIPPED']);
  });
});
