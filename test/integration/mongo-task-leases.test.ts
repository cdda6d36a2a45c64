import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMongoTaskLeases,
  type TaskLeases,
} from '../../src/persistence/mongo/mongo-task-leases.js';
import { useTestDatabase } from '../support/test-database.js';

const db = useTestDatabase('test_leases');
let leases: TaskLeases;

beforeAll(() => {
  leases = createMongoTaskLeases(db());
});

describe('task leases', () => {
  const t0 = new Date('2026-11-30T00:00:00Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
  const ttl = 60_000;

  it('gives a task to one replica, renews it for its holder, and hands it over once it runs out', async () => {
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-a', ttlMs: ttl, now: at(0) }),
    ).toBe(true);
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-b', ttlMs: ttl, now: at(1) }),
    ).toBe(false);
    // The holder renews: it keeps the task past the first minute.
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-a', ttlMs: ttl, now: at(50) }),
    ).toBe(true);
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-b', ttlMs: ttl, now: at(70) }),
    ).toBe(false);
    // The holder stopped renewing: after its lease, another takes over, and the first is out.
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-b', ttlMs: ttl, now: at(111) }),
    ).toBe(true);
    expect(
      await leases.acquire('housekeeping', { owner: 'replica-a', ttlMs: ttl, now: at(112) }),
    ).toBe(false);
    // Another task is leased on its own.
    expect(
      await leases.acquire('other-task', { owner: 'replica-a', ttlMs: ttl, now: at(112) }),
    ).toBe(true);
  });

  it('lets exactly one of many replicas that race for a free task have it', async () => {
    const owners = Array.from({ length: 8 }, (_, index) => `racer-${String(index)}`);
    const won = await Promise.all(
      owners.map((owner) => leases.acquire('raced-task', { owner, ttlMs: ttl, now: at(0) })),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
