import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MiB = 1024 * 1024;

describe('message size limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('refuses a gRPC message over 1 MiB with RESOURCE_EXHAUSTED, and writes nothing', async () => {
    const subjectId = newSubjectId('huge');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);

    const error = await callError(
      t.client.requestDeletion({ subjectId, reason: 'x'.repeat(2 * MiB) }, cast.self),
    );

    expect(error.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(await t.count('deletion_requests', { subjectId })).toBe(0);
    // The same call with an ordinary message is served.
    const fits = await t.client.requestDeletion({ subjectId, reason: 'leaving' }, cast.self);
    expect(fits.name).toMatch(/^deletionRequests\//);
  });

  it('refuses a tRPC body over 1 MiB with 413 PAYLOAD_TOO_LARGE, and writes nothing', async () => {
    const subjectId = newSubjectId('huge-trpc');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);

    const response = await fetch(`${t.trpcUrl}/requestDeletion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cast.self.token}` },
      body: JSON.stringify({ subjectId, reason: 'x'.repeat(2 * MiB) }),
    });

    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await t.count('deletion_requests', { subjectId })).toBe(0);
  });
});
