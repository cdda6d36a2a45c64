import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import {
  startFakeParticipant,
  participantsConfig,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { OWED_AUDIT_GRACE_MS } from '../../src/app/worker/append-owed-audit.js';
import { adminAuth, castFor, newSubjectId } from '../support/principals.js';
import { killReplica, startReplica } from '../support/replica.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Kills a worker running as a child process with SIGKILL at random moments
 * and at named points of the fan-out, restarts it, and checks that every
 * request completes exactly once with every linked service's effect done.
 */
/** Mulberry32: a small seeded generator, so a run's kill points can be replayed. */
const seeded = (seed: number) => {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

// CRASH_SEED=<n> replays a run's kill points; each run prints its seed.
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = seeded(SEED);

describe('crash recovery of the purge worker (SIGKILL)', () => {
  const REQUESTS = 40;
  const RANDOM_KILLS = 20;
  let t: TestApp;
  let fakes: FakeParticipant[];
  let env: Record<string, string>;
  const ids: DeletionRequestId[] = [];

  const startWorker = () => startReplica(env);
  const kill = killReplica;
  const states = async () =>
    Promise.all(ids.map(async (id) => (await t.app.deps.requests.findById(id))!));

  beforeAll(async () => {
    fakes = [];
    for (const name of ['billing', 'messaging', 'analytics'])
      fakes.push(await startFakeParticipant(name, { delayMs: 15 }));
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', PARTICIPANTS: participantsConfig(fakes) });
    env = {
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: t.dbName,
      PARTICIPANTS: participantsConfig(fakes, { maxAttempts: 50 }),
      NOTIFIER: 'dev-mailbox',
      WORKER_INTERVAL_MS: '20',
      LEASE_SECONDS: '1',
      RETRY_BASE_MS: '20',
      RETRY_CAP_MS: '200',
      OTP_SECRET: 'test-only-otp-secret-0123456789abcdef',
    };
    for (let i = 0; i < REQUESTS; i += 1) {
      const subjectId = newSubjectId('crash');
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const created = await t.client.requestDeletion({ subjectId }, cast.self);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId));
      await t.client.confirmDeletion({ name: created.name, code }, cast.self);
      ids.push(created.name.split('/')[1] as DeletionRequestId);
    }
  }, 120_000);

  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    for (const fake of fakes) await fake[Symbol.asyncDispose]();
  });

  it('finishes every request exactly once after 20 random kills and kills at named points', async () => {
    console.log(`crash-recovery: kill points from CRASH_SEED=${String(SEED)}`);
    // Named points: right after a claim (a call is in flight), and after a service answered but before it was recorded.
    for (const stage of ['received', 'answered'] as const) {
      const child = await startWorker();
      const killed = new Promise<void>((resolve) => {
        fakes[1]!.behaviour = {
          delayMs: 15,
          onErase: (at) => {
            if (at !== stage) return;
            fakes[1]!.behaviour = { delayMs: 15 };
            child.kill('SIGKILL');
            resolve();
          },
        };
      });
      await killed;
      await kill(child);
    }
    for (let i = 0; i < RANDOM_KILLS; i += 1) {
      const child = await startWorker();
      await sleep(Math.floor(random() * 250));
      await kill(child);
    }
    const survivor = await startWorker();
    const deadline = Date.now() + 60_000;
    while (
      (await states()).some((request) => request.state !== 'COMPLETED') &&
      Date.now() < deadline
    ) {
      await sleep(100);
    }
    await kill(survivor);

    // The log holds every change, final answer and notice the requests record, each once,
    // once what the killed writers owed is appended (past its grace, by housekeeping).
    t.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
    await t.app.runHousekeeping();
    await t.app.runHousekeeping();
    const admin = await adminAuth('auditor-crash');
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({
      intact: true,
      complete: true,
      gapCount: '0',
    });
    const changes = await t.app.audit.log.list({ kind: 'STATE_CHANGED' }, 0, 10_000);
    const keys = changes.map((event) => event.key);
    expect(new Set(keys).size).toBe(keys.length);

    const finished = await states();
    for (const request of finished) {
      const name = `deletionRequests/${request.id}`;
      expect(request.state).toBe('COMPLETED');
      expect(request.history.filter((change) => change.to === 'COMPLETED')).toHaveLength(1);
      expect(request.history.filter((change) => change.to === 'ERASING')).toHaveLength(1);
      expect(keys.filter((key) => key.startsWith(`${request.id}#`))).toHaveLength(
        request.history.length,
      );
      for (const fake of fakes) {
        expect(fake.effects.has(name)).toBe(true);
        expect(fake.calls.filter((call) => call === name).length).toBeGreaterThanOrEqual(1);
      }
      expect(await t.count('accounts', { _id: request.subjectId })).toBe(0);
      // The subject was told (at least once: a kill between sending and recording repeats it),
      // and the request keeps nothing of their contact.
      expect(request.finalNotice).toMatchObject({
        contact: null,
        sentAt: expect.any(Date) as Date,
      });
      expect(
        await t.count('dev_mailbox', {
          to: t.emailOf(request.subjectId),
          subject: 'Your account has been deleted',
        }),
      ).toBeGreaterThanOrEqual(1);
    }
  }, 240_000);
});
