import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as Status,
} from '../../src/gen/grpc/health/v1/health.js';
import { startCuttableProxy, type CuttableProxy } from '../support/cuttable-proxy.js';
import { startMain } from '../support/main-process.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('a database outage', () => {
  let proxy: CuttableProxy;
  let t: TestApp;
  let health: HealthClient;
  beforeAll(async () => {
    const uri = inject('mongoUri');
    proxy = await startCuttableProxy(new URL(uri).host);
    t = await startTestApp({ READINESS_CHECK_MS: '100' }, { mongoUri: proxy.uriThrough(uri) });
    health = new HealthClient(`127.0.0.1:${String(t.ports.grpc)}`, credentials.createInsecure());
  });
  afterAll(async () => {
    health.close();
    proxy.restore();
    await t[Symbol.asyncDispose]();
    await proxy.close();
  });

  const check = (service: string) => () =>
    new Promise<Status>((resolve, reject) =>
      health.check({ service }, (error, response) =>
        error ? reject(error) : resolve(response.status),
      ),
    );
  const readyz = async () =>
    (await fetch(`http://127.0.0.1:${String(t.ports.http)}/readyz`)).status;

  it('turns gRPC health NOT_SERVING while /readyz says 503, and SERVING again after', async () => {
    expect(await check('deletion.v1.DeletionService')()).toBe(Status.SERVING);
    expect(await readyz()).toBe(200);

    proxy.cut();
    await expect
      .poll(check('deletion.v1.DeletionService'), { timeout: 15_000 })
      .toBe(Status.NOT_SERVING);
    expect(await check('')()).toBe(Status.NOT_SERVING);
    expect(await readyz()).toBe(503);

    proxy.restore();
    await expect
      .poll(check('deletion.v1.DeletionService'), { timeout: 15_000 })
      .toBe(Status.SERVING);
    expect(await check('')()).toBe(Status.SERVING);
    await expect.poll(readyz, { timeout: 15_000 }).toBe(200);
  });
});

describe('start-up with the database down', () => {
  let proxy: CuttableProxy;
  let uri: string;
  beforeAll(async () => {
    const suite = inject('mongoUri');
    proxy = await startCuttableProxy(new URL(suite).host);
    uri = proxy.uriThrough(suite);
  });
  afterAll(async () => proxy.close());

  it('logs each failed attempt and exits with the reason once its wait is over', async () => {
    proxy.cut();
    const main = startMain({ MONGODB_URI: uri, DATABASE_STARTUP_WAIT_SECONDS: '8' });
    const code = await main.exited;

    expect(code).toBe(1);
    expect(main.stderr()).toContain('start-up failed: the database is unavailable');
    const attempts = main.lines.filter((line) => typeof line.attempt === 'number');
    expect(attempts.map(({ attempt, retryInMs }) => ({ attempt, retryInMs }))).toEqual([
      { attempt: 1, retryInMs: 1000 },
      { attempt: 2, retryInMs: null },
    ]);
  }, 30_000);

  it('serves once the database answers, if that is within its wait', async () => {
    proxy.cut();
    const main = startMain({ MONGODB_URI: uri, DATABASE_STARTUP_WAIT_SECONDS: '60' });
    try {
      // Once the first attempt has failed, the database comes back: a later one finds it.
      const attempted = () => main.lines.some((line) => line.attempt === 1);
      await expect.poll(attempted, { timeout: 20_000 }).toBe(true);
      proxy.restore();
      const portOf = () => main.lines.find((line) => typeof line.httpPort === 'number')?.httpPort;
      await expect.poll(portOf, { timeout: 20_000 }).toBeTypeOf('number');
      const port = portOf();
      const ready = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      main.child.kill('SIGTERM');
      await main.exited;
    }
  }, 40_000);
});
