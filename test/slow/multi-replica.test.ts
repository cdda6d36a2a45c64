import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import { dueRequest } from '../support/due-request.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { newSubjectId } from '../support/principals.js';
import { killReplica, startReplica } from '../support/replica.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DELETIONS = Number(process.env.REPLICA_DELETIONS ?? 300);
const REPLICAS = 3;

/**
 * Three service processes on one database share the purge of 300 deletions
 * whose grace period is over: each is completed once, each linked service
 * erases each subject once, and no replica takes over a purge whose lease is
 * still valid (it would call the linked services a second time).
 */
describe(`${String(REPLICAS)} replicas on one database`, () => {
  let t: TestApp;
  let fakes: FakeParticipant[];
  let replicas: ChildProcess[] = [];
  const ids: DeletionRequestId[] = [];

  beforeAll(async () => {
    fakes = [];
    for (const name of ['billing', 'messaging'])
      fakes.push(await startFakeParticipant(name, { delayMs: 5 }));
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', PARTICIPANTS: participantsConfig(fakes) });
    // Straight into the database, confirmed with a step-up: 300 runs of the code flow would
    // test the code flow, and this test is about the purge.
    for (let i = 0; i < DELETIONS; i += 1) {
      const subjectId = newSubjectId('replica') as SubjectId;
      await t.seedAccount({ id: subjectId, sessions: 1, tokens: 0 });
      const request = dueRequest(`replica-${String(i).padStart(3, '0')}-${t.dbName}`, subjectId);
      expect(await t.app.deps.requests.insert(request)).toEqual({ kind: 'INSERTED' });
      ids.push(request.id);
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map(killReplica));
    await t[Symbol.asyncDispose]();
    for (const fake of fakes) await fake[Symbol.asyncDispose]();
  });

  it('completes every deletion once, each linked service erasing each subject once', async () => {
    const env = {
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: t.dbName,
      PARTICIPANTS: participantsConfig(fakes),
      NOTIFIER: 'dev-mailbox',
      WORKER_INTERVAL_MS: '20',
      OTP_SECRET: 'test-only-otp-secret-0123456789abcdef',
      // 300 erasures in minutes is this test's load, not a mass deletion to stop (the default
      // limit of 100 an hour held the other 200: test/security/mass-deletion-breaker.test.ts).
      BREAKER_LIMIT: String(DELETIONS),
    };
    replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startReplica(env)));
    const started = Date.now();
    const completed = () => t.count('deletion_requests', { _id: { $in: ids }, state: 'COMPLETED' });
    // A count scans the collection on FerretDB: poll gently, it competes with the replicas.
    while ((await completed()) < DELETIONS && Date.now() - started < 900_000) await sleep(2000);
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(replicas.map(killReplica));

    expect(await completed()).toBe(DELETIONS);
    for (const id of ids) {
      const request = (await t.app.deps.requests.findById(id))!;
      expect(request.history.map((change) => change.to)).toEqual([
        'SCHEDULED',
        'ERASING',
        'COMPLETED',
      ]);
      expect(Object.values(request.participants).map((step) => step.attempts)).toEqual([1, 1]);
    }
    for (const fake of fakes) {
      const calls = new Map<string, number>();
      for (const call of fake.calls) calls.set(call, (calls.get(call) ?? 0) + 1);
      expect([...calls.values()].filter((count) => count !== 1)).toEqual([]);
      expect(calls.size).toBe(DELETIONS);
      expect(fake.effects.size).toBe(DELETIONS);
      // The work was shared: every replica (one connection each) erased some of it.
      expect(new Set(fake.callers).size).toBeGreaterThanOrEqual(REPLICAS);
    }
    // Each subject was told once that the erasure is complete (by the replica holding the purge).
    const notices = await t.app.connection
      .collection<{ to: string; subject: string }>('dev_mailbox')
      .find({ subject: 'Your account has been deleted' })
      .toArray();
    expect(notices).toHaveLength(DELETIONS);
    expect(new Set(notices.map((notice) => notice.to)).size).toBe(DELETIONS);
    console.log(
      `MULTI_REPLICA ${String(DELETIONS)} deletions by ${String(REPLICAS)} replicas in ${seconds.toFixed(1)} s`,
    );
  }, 960_000);
});
