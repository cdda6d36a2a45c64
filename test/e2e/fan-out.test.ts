import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { DeletionRequest_State as State } from '../../src/gen/deletion/v1/deletion_request.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import {
  startFakeParticipant,
  participantsConfig,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { purgeRequest } from '../../src/app/worker/purge-request.js';
import { createGrpcParticipants } from '../../src/participants/grpc-participants.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('fan-out to linked services at purge', () => {
  const open: AsyncDisposable[] = [];
  afterEach(async () => {
    for (const resource of open.splice(0).reverse()) await resource[Symbol.asyncDispose]();
  });

  const fakes = async (
    count: number,
    behaviour: Parameters<typeof startFakeParticipant>[1] = {},
    inFlight = { now: 0, max: 0 },
  ) => {
    const started: FakeParticipant[] = [];
    for (let i = 0; i < count; i += 1) {
      const fake = await startFakeParticipant(`svc-${String(i)}`, behaviour, inFlight);
      open.push(fake);
      started.push(fake);
    }
    return started;
  };

  const appWith = async (
    participants: readonly FakeParticipant[],
    env: Record<string, string> = {},
  ) => {
    const t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: participantsConfig(participants, {
        maxAttempts: Number(env.MAX_ATTEMPTS ?? 5),
      }),
      RETRY_BASE_MS: '1000',
      RETRY_CAP_MS: '4000',
      ...env,
    });
    open.push(t);
    return t;
  };

  /** A confirmed (SCHEDULED, grace 0) request, ready for the purge. */
  const scheduled = (t: TestApp) => t.scheduled();

  const stored = async (t: TestApp, id: DeletionRequestId) =>
    (await t.app.deps.requests.findById(id))!;

  it('erases everywhere, records each outcome, and completes', async () => {
    const [billing, messaging, analytics] = await fakes(3);
    messaging!.behaviour = { outcome: { $case: 'nothingFound', value: {} } };
    analytics!.behaviour = {
      outcome: {
        $case: 'retained',
        value: {
          legalBasis: 'tax law',
          categories: ['invoices'],
          until: new Date('2036-01-01'),
          erasedRecords: '2',
        },
      },
    };
    const t = await appWith([billing!, messaging!, analytics!]);
    const { subjectId, cast, name, id } = await scheduled(t);

    const pass = await t.app.runWorkerPass();

    expect(pass.completed).toBe(1);
    expect((await t.client.getDeletionRequest({ name }, cast.self)).state).toBe(
      State.STATE_COMPLETED,
    );
    const steps = (await stored(t, id)).participants;
    expect(steps['svc-0']).toMatchObject({
      status: 'DONE',
      attempts: 1,
      outcome: { kind: 'ERASED', records: 3, categories: ['profile'] },
    });
    expect(steps['svc-1']).toMatchObject({ status: 'DONE', outcome: { kind: 'NOTHING_FOUND' } });
    expect(steps['svc-2']).toMatchObject({
      status: 'DONE',
      outcome: { kind: 'RETAINED', legalBasis: 'tax law', erasedRecords: 2 },
    });
    for (const fake of [billing!, messaging!, analytics!]) expect(fake.calls).toEqual([name]);
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
  });

  it('calls 20 linked services in parallel: all 20 calls are in flight at once', async () => {
    const inFlight = { now: 0, max: 0 };
    const participants = await fakes(20, { delayMs: 50 }, inFlight);
    const t = await appWith(participants, { FANOUT_CONCURRENCY: '20' });
    const { id } = await scheduled(t);

    expect((await t.app.runWorkerPass()).completed).toBe(1);
    expect((await stored(t, id)).state).toBe('COMPLETED');
    // Parallel, not one after another: every service held a call while the others did.
    // How long the phase takes is the `purge-steps` benchmark's to measure.
    expect(inFlight.max).toBe(20);
    expect(participants.every((p) => p.calls.length === 1)).toBe(true);
  });

  it('never has more calls in flight than the concurrency bound', async () => {
    const inFlight = { now: 0, max: 0 };
    const participants = await fakes(8, { delayMs: 30 }, inFlight);
    const t = await appWith(participants, { FANOUT_CONCURRENCY: '3' });
    await scheduled(t);

    await t.app.runWorkerPass();

    expect(inFlight.max).toBe(3);
  });

  it('retries a service that is down with growing, jittered delays, then completes without calling the others again', async () => {
    const [steady, flaky] = await fakes(2);
    flaky!.behaviour = { failFirst: 2, failWith: status.UNAVAILABLE };
    const t = await appWith([steady!, flaky!]);
    const { cast, name, id } = await scheduled(t);

    await t.app.runWorkerPass();
    const afterFirst = (await stored(t, id)).participants['svc-1']!;
    expect(afterFirst).toMatchObject({
      status: 'RETRYING',
      attempts: 1,
      lastErrorCode: 'UNAVAILABLE',
    });
    expect((await stored(t, id)).state).toBe('ERASING');
    expect((await stored(t, id)).leaseOwner).toBeNull();

    for (let pass = 0; pass < 3; pass += 1) {
      t.clock.advance(4001);
      await t.app.runWorkerPass();
    }

    expect((await t.client.getDeletionRequest({ name }, cast.self)).state).toBe(
      State.STATE_COMPLETED,
    );
    expect(flaky!.calls).toHaveLength(3);
    expect(steady!.calls).toHaveLength(1);
    expect(flaky!.effects.size).toBe(1);
  });

  it('needs attention, never completes, when a service fails past its budget', async () => {
    const [broken] = await fakes(1, { failFirst: 1000 });
    const t = await appWith([broken!], { MAX_ATTEMPTS: '3' });
    const { subjectId, id } = await scheduled(t);

    const results = [];
    for (let pass = 0; pass < 4; pass += 1) {
      results.push(await t.app.runWorkerPass());
      t.clock.advance(4001);
    }

    const request = await stored(t, id);
    expect(request.state).toBe('NEEDS_ATTENTION');
    expect(request.participants['svc-0']).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(broken!.calls).toHaveLength(3);
    expect(results.flatMap((r) => r.needsAttention)).toEqual([id]);
    expect(await t.count('accounts', { _id: subjectId })).toBe(1);
  });

  it('asks each service to erase the data categories it is registered for (none: all)', async () => {
    const [billing, messaging] = await fakes(2);
    const t = await appWith([billing!, messaging!], {
      PARTICIPANTS: participantsConfig([billing!, messaging!], {
        categories: { 'svc-0': ['payment_methods', 'invoices'] },
      }),
    });
    await scheduled(t);
    await t.app.runWorkerPass();
    expect(billing!.categories).toEqual(['payment_methods+invoices']);
    expect(messaging!.categories).toEqual(['']);
  });

  it('resumes a purge under the current registry: a new service is called, a removed one needs attention', async () => {
    const [kept, removed, added] = await fakes(3);
    removed!.behaviour = { acceptUntil: new Date(Date.now() + 3_600_000) };
    const t = await appWith([kept!, removed!]);
    const { id } = await scheduled(t);
    await t.app.runWorkerPass();
    expect((await stored(t, id)).participants['svc-1']?.status).toBe('ACCEPTED');

    // Another replica, configured after svc-1 was unregistered and svc-2 registered.
    const registry = [kept!, added!].map((fake) => ({
      name: fake.name,
      address: fake.address,
      tls: null,
      timeoutMs: 2000,
      maxAttempts: 3,
      phases: ['erase' as const],
      after: [],
      identity: fake.name,
      subjectId: 'real' as const,
      categories: [],
    }));
    const participants = createGrpcParticipants(
      registry,
      (subjectId) => subjectId,
      t.app.deps.clock,
    );
    try {
      const outcome = await purgeRequest({ ...t.app.deps, participants }, await stored(t, id), {
        owner: 'replica-2',
      });
      expect(outcome).toBe('NEEDS_ATTENTION');
    } finally {
      participants.close();
    }
    const request = await stored(t, id);
    expect(request.state).toBe('NEEDS_ATTENTION');
    expect(request.participants['svc-1']).toMatchObject({
      status: 'FAILED',
      lastErrorCode: 'UNREGISTERED',
    });
    expect(request.participants['svc-2']).toMatchObject({ status: 'DONE', attempts: 1 });
    expect(added!.calls).toHaveLength(1);
    expect(kept!.calls).toHaveLength(1);
  });

  it('erases the account first when configured so, and reports the counts of that pass', async () => {
    const [flaky] = await fakes(1, { failFirst: 1 });
    const t = await appWith([flaky!], { LOCAL_ERASURE: 'first' });
    const { subjectId, id } = await scheduled(t);

    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 0, failures: [] });
    const waiting = await stored(t, id);
    expect(waiting.state).toBe('ERASING');
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
    expect(waiting.localErasure).toMatchObject({ accounts: 1 });

    t.clock.advance(4001);
    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1 });
    const done = await stored(t, id);
    expect(done.state).toBe('COMPLETED');
    expect(JSON.parse(done.report!.payload)).toMatchObject({ local: { accounts: 1 } });
  });

  it('fails a step at once on a non-retryable error or an answer about someone else', async () => {
    const [refusing, confused] = await fakes(2);
    refusing!.behaviour = { failFirst: 1000, failWith: status.PERMISSION_DENIED };
    confused!.behaviour = { mismatch: true };
    const t = await appWith([refusing!, confused!]);
    const { id } = await scheduled(t);

    await t.app.runWorkerPass();

    const request = await stored(t, id);
    expect(request.state).toBe('NEEDS_ATTENTION');
    expect(request.participants['svc-0']).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      lastErrorCode: 'PERMISSION_DENIED',
    });
    expect(request.participants['svc-1']).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      lastErrorCode: 'ANSWER_MISMATCH',
    });
  });

  it('waits for an ACCEPTED service, and needs attention once its promised report is overdue', async () => {
    const [slow] = await fakes(1);
    const t = await appWith([slow!]);
    slow!.behaviour = { acceptUntil: new Date(t.clock.now().getTime() + 60_000) };
    const { id } = await scheduled(t);

    await t.app.runWorkerPass();
    expect((await stored(t, id)).participants['svc-0']).toMatchObject({ status: 'ACCEPTED' });
    expect((await stored(t, id)).state).toBe('ERASING');

    t.clock.advance(60_001);
    const pass = await t.app.runWorkerPass();

    expect(pass.needsAttention).toEqual([id]);
    expect((await stored(t, id)).participants['svc-0']).toMatchObject({
      status: 'FAILED',
      lastErrorCode: 'REPORT_OVERDUE',
    });
    expect(slow!.calls).toHaveLength(1);
  });

  it('calls a service only after the ones it comes after have answered', async () => {
    const [first, second] = await fakes(2);
    first!.behaviour = { delayMs: 40 };
    const t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: participantsConfig([first!, second!], { after: { 'svc-1': ['svc-0'] } }),
    });
    open.push(t);
    const { name } = await scheduled(t);

    const pass = await t.app.runWorkerPass();

    expect(pass.completed).toBe(1);
    expect(first!.calls).toEqual([name]);
    expect(second!.calls).toEqual([name]);
    const steps = (await stored(t, name.split('/')[1] as DeletionRequestId)).participants;
    expect(steps['svc-1']!.updatedAt.getTime()).toBeGreaterThanOrEqual(
      steps['svc-0']!.updatedAt.getTime(),
    );
  });
});
