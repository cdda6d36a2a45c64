import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus as Status,
} from '../../src/gen/grpc/health/v1/health.js';
import { startCuttableProxy, type CuttableProxy } from '../support/cuttable-proxy.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The suite's database URI with its host and port replaced by `address`. */
const through = (uri: string, address: string): string => {
  const url = new URL(uri);
  url.host = address;
  return url.toString();
};

/** Polls `read` until it returns `expected` (or gives up after `ms`); returns the last value. */
const eventually = async <T>(read: () => Promise<T>, expected: T, ms = 15_000): Promise<T> => {
  const until = Date.now() + ms;
  let value = await read();
  while (value !== expected && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
};

describe('a database outage', () => {
  let proxy: CuttableProxy;
  let t: TestApp;
  let health: HealthClient;
  beforeAll(async () => {
    const uri = inject('mongoUri');
    proxy = await startCuttableProxy(new URL(uri).host);
    t = await startTestApp(
      { READINESS_CHECK_MS: '100' },
      { mongoUri: through(uri, proxy.address) },
    );
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
    expect(await eventually(check('deletion.v1.DeletionService'), Status.NOT_SERVING)).toBe(
      Status.NOT_SERVING,
    );
    expect(await check('')()).toBe(Status.NOT_SERVING);
    expect(await readyz()).toBe(503);

    proxy.restore();
    expect(await eventually(check('deletion.v1.DeletionService'), Status.SERVING)).toBe(
      Status.SERVING,
    );
    expect(await check('')()).toBe(Status.SERVING);
    expect(await eventually(readyz, 200)).toBe(200);
  });
});
