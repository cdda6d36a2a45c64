import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HealthClient,
  HealthCheckResponse_ServingStatus,
} from '../../src/gen/grpc/health/v1/health.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);

describe('gRPC surface: health, reflection, rich errors', () => {
  let t: TestApp;
  let grpcAddress: string;
  let httpBase: string;
  beforeAll(async () => {
    t = await startTestApp();
    grpcAddress = `127.0.0.1:${String(t.ports.grpc)}`;
    httpBase = `http://127.0.0.1:${String(t.ports.http)}`;
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('reports SERVING for the server and for the DeletionService', async () => {
    const health = new HealthClient(grpcAddress, credentials.createInsecure());
    const check = (service: string) =>
      new Promise<number>((resolve, reject) =>
        health.check({ service }, (error, response) =>
          error ? reject(error) : resolve(response.status),
        ),
      );
    expect(await check('')).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(await check('deletion.v1.DeletionService')).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    health.close();
  });

  it('serves reflection that buf curl can call the service with', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const curl = ['--no-install', 'buf', 'curl', '--protocol', 'grpc', '--http2-prior-knowledge'];

    const services = await run('npx', [...curl, '--list-services', `http://${grpcAddress}`]);
    const created = await run('npx', [
      ...curl,
      '-H',
      `authorization: Bearer ${cast.self.token}`,
      '-d',
      JSON.stringify({ subject_id: subjectId }),
      `http://${grpcAddress}/deletion.v1.DeletionService/RequestDeletion`,
    ]);

    // What this port serves, the reflection service included; not the participant contract.
    expect(services.stdout.trim().split('\n').sort()).toEqual([
      'deletion.v1.DeletionService',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
    const methods = await run('npx', [...curl, '--list-methods', `http://${grpcAddress}`]);
    expect(methods.stdout).toContain('grpc.reflection.v1.ServerReflection/ServerReflectionInfo');
    expect(JSON.parse(created.stdout)).toMatchObject({ state: 'STATE_REQUESTED', subjectId });
  });

  it('answers /healthz and /readyz over HTTP', async () => {
    expect((await fetch(`${httpBase}/healthz`)).status).toBe(200);
    const ready = await fetch(`${httpBase}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('sends ErrorInfo with a stable reason and the service domain', async () => {
    const error = await callError(
      t.client.getDeletionRequest({ name: 'deletionRequests/x1' }, null),
    );
    expect(error.code).toBe(16);
    expect(error.rich).toMatchObject({
      code: 16,
      reason: 'MISSING_CREDENTIALS',
      domain: 'deletion.v1',
    });
  });

  it('sends BadRequest field violations with proto field names', async () => {
    const cast = await castFor('someone');
    const error = await callError(
      t.client.requestDeletion({ subjectId: 'no spaces allowed' }, cast.service),
    );
    expect(error.code).toBe(3);
    expect(error.rich?.fieldViolations).toEqual([
      { field: 'subject_id', description: expect.any(String) as string },
    ]);
  });

  it('pages through a list without gaps or repeats', async () => {
    const cast = await castFor('lister');
    const subjects = Array.from({ length: 5 }, () => newSubjectId('page'));
    for (const subjectId of subjects) {
      await t.seedAccount({ id: subjectId });
      await t.client.requestDeletion({ subjectId }, cast.service);
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await t.client.listDeletionRequests({ pageSize: 2, pageToken }, cast.service);
      expect(page.deletionRequests.length).toBeLessThanOrEqual(2);
      seen.push(...page.deletionRequests.map((r) => r.subjectId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen.filter((s) => subjects.includes(s)).sort()).toEqual([...subjects].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('refuses a page token used with another filter', async () => {
    const cast = await castFor('lister');
    const first = await t.client.listDeletionRequests({ pageSize: 1 }, cast.service);
    expect(first.nextPageToken).not.toBe('');
    const error = await callError(
      t.client.listDeletionRequests(
        { pageSize: 1, pageToken: first.nextPageToken, subjectId: 'someone' },
        cast.service,
      ),
    );
    expect(error.rich?.fieldViolations[0]?.field).toBe('page_token');
  });
});
