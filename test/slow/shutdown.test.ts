import { credentials } from '@grpc/grpc-js';
import { describe, expect, inject, it, vi } from 'vitest';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import type { DeletionEventView } from '../../src/transports/trpc/deletion-view.js';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as Status,
} from '../../src/gen/grpc/health/v1/health.js';
import { startCuttableProxy, type CuttableProxy } from '../support/cuttable-proxy.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { startMain } from '../support/main-process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A replica told to stop (issue 21, item 4) finishes what callers are waiting
 * for, starts nothing new, leaves its purges where another replica can take
 * them over at once, and is gone within its grace period whatever hangs.
 */
/** A call's answer or failure, without an unhandled rejection if the test ends first. */
const settled = <T>(call: Promise<T>): Promise<{ answered: T } | { failed: unknown }> =>
  call.then(
    (answered) => ({ answered }),
    (failed: unknown) => ({ failed }),
  );

describe('shutting down', () => {
  const cleanup = cleanupsAfterEach();
  const throughProxy = async () => {
    const uri = inject('mongoUri');
    const proxy = await startCuttableProxy(new URL(uri).host);
    cleanup(() => proxy.close());
    return { proxy, uri: proxy.uriThrough(uri) };
  };
  const app = async (proxy: CuttableProxy, uri: string, env: Record<string, string> = {}) => {
    // What calls leave to finish after answering runs at once, as in production.
    const t = await startTestApp(env, { mongoUri: uri, immediateAfterwards: true });
    cleanup(async () => {
      proxy.restore();
      await t[Symbol.asyncDispose]();
    });
    return t;
  };
  const healthOf = (t: TestApp) => {
    const health = new HealthClient(
      `127.0.0.1:${String(t.ports.grpc)}`,
      credentials.createInsecure(),
    );
    cleanup(() => Promise.resolve(health.close()));
    return () =>
      new Promise<Status>((resolve, reject) =>
        health.check({ service: 'deletion.v1.DeletionService' }, (error, response) =>
          error ? reject(error) : resolve(response.status),
        ),
      );
  };

  it('lets calls in flight on both transports finish and ends watches with RECONNECT', async () => {
    const { proxy, uri } = await throughProxy();
    // The watch's shared read loop stays out of the way of the counted reads.
    const t = await app(proxy, uri, { WATCH_POLL_MS: '600000' });
    const subject = await t.requested({ prefix: 'drain' });
    const trpc = createTrpcClient({ url: t.trpcUrl, token: subject.cast.self.token });
    const events: DeletionEventView[] = [];
    const watch = trpc.watchDeletionRequest.subscribe(
      { name: subject.name },
      { onData: ({ data }) => events.push(data) },
    );
    cleanup(() => Promise.resolve(watch.unsubscribe()));
    await expect.poll(() => events.length).toBe(1);
    const health = healthOf(t);
    expect(await health()).toBe(Status.SERVING);

    // The database answers late: both reads are in the service, waiting on it, when it is told to stop.
    // What the request's creation left to finish (its receipt) is done first.
    await t.app.deps.afterwards.settled();
    const reads = vi.spyOn(t.app.deps.requests, 'findById');
    proxy.delay(1500);
    const viaGrpc = settled(t.client.getDeletionRequest({ name: subject.name }, subject.cast.self));
    const viaTrpc = settled(trpc.getDeletionRequest.query({ name: subject.name }));
    await expect.poll(() => reads.mock.calls.length).toBe(2);
    const closed = t.app.close(20_000);

    // Told to stop, it takes no new call, on either transport.
    expect('failed' in (await settled(health()))).toBe(true);
    const late = await settled(fetch(`http://127.0.0.1:${String(t.ports.http)}/healthz`));
    expect('failed' in late || late.answered.status === 503).toBe(true);
    expect(await viaGrpc).toMatchObject({ answered: { name: subject.name } });
    expect(await viaTrpc).toMatchObject({ answered: { name: subject.name, state: 'REQUESTED' } });
    await closed;
    expect(events.at(-1)).toEqual({ kind: 'RECONNECT', reason: 'SERVER_SHUTTING_DOWN' });
    expect(events).toHaveLength(2);
  });

  it('is over within its grace period while the database hangs', async () => {
    const { proxy, uri } = await throughProxy();
    const t = await app(proxy, uri);
    const subject = await t.requested({ prefix: 'hung' });
    await t.app.deps.afterwards.settled();
    const reads = vi.spyOn(t.app.deps.requests, 'findById');
    proxy.delay(120_000);
    const hung = t.client.getDeletionRequest({ name: subject.name }, subject.cast.self).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => reads.mock.calls.length).toBe(1);

    await t.app.close(2000);

    // Closed while the database still holds the call (for two minutes): it was cut, not waited for.
    expect(await hung).toBe('failed');
  });

  it('starts no new purge and leaves the one under way released, with the answers it had', async () => {
    const crm = await startFakeParticipant('crm');
    const billing = await startFakeParticipant('billing', { delayMs: 120_000 });
    const fakes: FakeParticipant[] = [crm, billing];
    cleanup(() => Promise.all(fakes.map((fake) => fake[Symbol.asyncDispose]())));
    const { proxy, uri } = await throughProxy();
    const t = await app(proxy, uri, {
      PARTICIPANTS: participantsConfig(fakes, { timeoutMs: 300_000 }),
      WORKER_ENABLED: 'true',
      WORKER_INTERVAL_MS: '50',
      WORKER_CONCURRENCY: '1',
      SHUTDOWN_GRACE_SECONDS: '4',
    });
    const due: Awaited<ReturnType<TestApp['scheduled']>>[] = [];
    for (let i = 0; i < 3; i += 1) due.push(await t.scheduled({ prefix: `stop${String(i)}` }));
    const requests = () => Promise.all(due.map((one) => t.app.deps.requests.findById(one.id)));
    // One purge is under way: crm answered (recorded), billing hangs.
    await expect
      .poll(
        async () => (await requests()).filter((r) => r?.participants.crm?.status === 'DONE').length,
        { timeout: 20_000 },
      )
      .toBe(1);
    expect(billing.calls).toHaveLength(1);

    await t.app.close(4000);
    // Closed while billing still holds its call (for two minutes): the stop did not wait for it.
    expect(billing.answered).toBe(0);

    // Another replica finds the purge released, with crm's answer kept, and finishes it at once.
    billing.behaviour = {};
    const next = await app(proxy, uri, {
      MONGODB_DB: t.dbName,
      PARTICIPANTS: participantsConfig(fakes, { timeoutMs: 300_000 }),
    });
    const after = await Promise.all(due.map((one) => next.app.deps.requests.findById(one.id)));
    const erasing = after.filter((request) => request?.state === 'ERASING');
    expect(erasing).toHaveLength(1);
    expect(erasing[0]).toMatchObject({
      leaseOwner: null,
      participants: { crm: { status: 'DONE' }, billing: { status: 'PENDING' } },
    });
    expect(erasing[0]?.leaseUntil?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(after.filter((request) => request?.state === 'SCHEDULED')).toHaveLength(2);
    expect(crm.calls).toHaveLength(1);
    expect(billing.calls).toHaveLength(1);

    await next.app.runWorkerPass();
    const resumed = await next.app.deps.requests.findById(erasing[0]?.id ?? ('' as never));
    expect(resumed?.state).toBe('COMPLETED');
    const about = (calls: readonly string[]) =>
      calls.filter((id) => id.endsWith(resumed?.id ?? '?'));
    expect(about(crm.calls)).toHaveLength(1); // its answer was kept: not asked again
    expect(about(billing.calls)).toHaveLength(2);
  });

  it('exits on SIGTERM while a linked service hangs', async () => {
    const billing = await startFakeParticipant('billing', { delayMs: 120_000 });
    cleanup(() => billing[Symbol.asyncDispose]());
    const participants = participantsConfig([billing], { timeoutMs: 300_000 });
    const t = await startTestApp({ PARTICIPANTS: participants });
    cleanup(() => t[Symbol.asyncDispose]());
    const main = startMain({
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: t.dbName,
      PARTICIPANTS: participants,
      WORKER_ENABLED: 'true',
      WORKER_INTERVAL_MS: '50',
      SHUTDOWN_GRACE_SECONDS: '3',
    });
    cleanup(async () => {
      main.child.kill('SIGKILL');
      await main.exited;
    });
    await t.scheduled({ prefix: 'sigterm' });
    // The process's worker has called billing, which does not answer.
    await expect.poll(() => billing.calls.length, { timeout: 30_000 }).toBe(1);

    main.child.kill('SIGTERM');
    const code = await main.exited;

    expect(code).toBe(0);
    expect(main.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['shutting down', 'shut down']),
    );
    // Gone while billing still holds its call (for two minutes): the exit did not wait for it.
    expect(billing.answered).toBe(0);
  }, 60_000);
});
