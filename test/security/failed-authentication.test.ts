import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const FAILURES = 3;
const WINDOW_SECONDS = 60;

/**
 * Each refused credential costs the service a verification or a database
 * lookup; a source that keeps presenting them is held back (issue 21, item
 * 8): past `AUTH_FAILURE_LIMIT` refusals in a window, its calls answer
 * RESOURCE_EXHAUSTED (`TOO_MANY_FAILED_AUTHENTICATIONS`) with RetryInfo, or
 * HTTP 429 with Retry-After, before anything is verified or looked up.
 * Which source counts (peer, key prefix) and what is never looked up are in
 * the authenticator's unit tests.
 */
describe('a source presenting wrong credentials', () => {
  let t: TestApp | undefined;
  const start = async () =>
    (t = await startTestApp({
      AUTH_FAILURE_LIMIT: String(FAILURES),
      AUTH_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS),
    }));
  afterEach(async () => t?.[Symbol.asyncDispose]());
  const wrongKey = () => `wrong-${randomUUID()}`;
  const missing = { name: `deletionRequests/${randomUUID()}` };

  it('is held back on gRPC with RetryInfo, while a caller it already knows goes on', async () => {
    const app = await start();
    const known = await castFor(newSubjectId('known'));
    await callError(app.client.getDeletionRequest(missing, known.self)); // verified once

    const refused = [];
    for (let i = 0; i <= FAILURES; i += 1)
      refused.push(await callError(app.client.getDeletionRequest(missing, { apiKey: wrongKey() })));

    expect(refused.map((error) => grpcCodeName(error.code))).toEqual([
      ...Array<string>(FAILURES).fill('UNAUTHENTICATED'),
      'RESOURCE_EXHAUSTED',
    ]);
    const last = refused[FAILURES];
    expect(last?.rich?.reason).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
    expect(last?.rich?.retryDelayMs).toBeGreaterThan(0);
    expect(last?.rich?.retryDelayMs).toBeLessThanOrEqual(WINDOW_SECONDS * 1000);
    // A token it verified before still passes; a new one waits like the keys.
    expect(
      grpcCodeName((await callError(app.client.getDeletionRequest(missing, known.self))).code),
    ).toBe('PERMISSION_DENIED');
    const stranger = await castFor(newSubjectId('stranger'));
    expect(
      (await callError(app.client.getDeletionRequest(missing, stranger.self))).rich?.reason,
    ).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
  });

  it('is held back on tRPC with 429 and Retry-After', async () => {
    const app = await start();
    const read = (headers: Record<string, string>) =>
      fetch(
        `${app.trpcUrl}/getDeletionRequest?input=${encodeURIComponent(JSON.stringify(missing))}`,
        {
          headers,
        },
      );

    const statuses = [];
    let last: Response | undefined;
    for (let i = 0; i <= FAILURES; i += 1) {
      last = await read(
        i % 2 === 0 ? { 'x-api-key': wrongKey() } : { authorization: 'Bearer x.y.z' },
      );
      statuses.push(last.status);
    }

    expect(statuses).toEqual([...Array<number>(FAILURES).fill(401), 429]);
    const body = (await last?.json()) as { error: { data: { reason: string } } };
    expect(body.error.data.reason).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
    const retryAfter = Number(last?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  });
});
