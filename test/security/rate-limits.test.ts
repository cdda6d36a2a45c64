import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeletionRequest_State } from '../../src/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

const RESOURCE_EXHAUSTED = 8;
const PERMISSION_DENIED = 7;
const MUTATIONS = 4;
const WINDOW_SECONDS = 60;

/** A tRPC mutation over plain HTTP, to see the status and headers. */
const trpcMutation = (t: TestApp, procedure: string, token: string, input: object) =>
  fetch(`${t.trpcUrl}/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(input),
  });

describe('per-principal rate limits, shared by two replicas of one database', () => {
  let a: TestApp;
  let b: TestApp;
  const budgets = {
    RATE_LIMIT_MUTATIONS: String(MUTATIONS),
    RATE_LIMIT_READS: '1000',
    RATE_LIMIT_PRINCIPAL_WINDOW_SECONDS: String(WINDOW_SECONDS),
  };
  beforeAll(async () => {
    a = await startTestApp(budgets);
    b = await startTestApp({ ...budgets, MONGODB_DB: a.dbName });
  });
  afterAll(async () => {
    await b[Symbol.asyncDispose]();
    await a[Symbol.asyncDispose]();
  });

  it('refuses the call past the budget, whichever replica and transport, with RetryInfo and Retry-After', async () => {
    const caller = await castFor(newSubjectId('limited'));
    const cancel = { name: 'deletionRequests/none' };
    // Two calls on each replica, one by gRPC and one by tRPC: refused (not theirs), but spent.
    for (const t of [a, b]) {
      expect((await callError(t.client.cancelDeletion(cancel, caller.self))).code).toBe(
        PERMISSION_DENIED,
      );
      expect((await trpcMutation(t, 'cancelDeletion', caller.self.token, cancel)).status).toBe(403);
    }

    const overGrpc = await callError(b.client.cancelDeletion(cancel, caller.self));
    const overTrpc = await trpcMutation(a, 'cancelDeletion', caller.self.token, cancel);

    expect(overGrpc.code).toBe(RESOURCE_EXHAUSTED);
    expect(overGrpc.rich).toMatchObject({
      reason: 'RATE_LIMITED',
      metadata: { limit: 'mutation' },
    });
    expect(overGrpc.rich?.retryDelayMs).toBeGreaterThan(0);
    expect(overGrpc.rich?.retryDelayMs).toBeLessThanOrEqual(WINDOW_SECONDS * 1000);
    expect(overTrpc.status).toBe(429);
    const retryAfter = Number(overTrpc.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    const body = (await overTrpc.json()) as { error: { data: { code: string; reason: string } } };
    expect(body.error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'RATE_LIMITED' });
  });

  it('keeps budgets apart: another principal, and reads, are still served', async () => {
    const subjectId = newSubjectId('spent');
    await a.seedAccount({ id: subjectId });
    const spent = await castFor(subjectId);
    const created = await a.client.requestDeletion({ subjectId }, spent.self);
    for (let i = 1; i < MUTATIONS; i += 1)
      await callError(a.client.cancelDeletion({ name: 'deletionRequests/none' }, spent.self));
    expect(
      (await callError(b.client.cancelDeletion({ name: created.name }, spent.self))).code,
    ).toBe(RESOURCE_EXHAUSTED);

    expect((await b.client.getDeletionRequest({ name: created.name }, spent.self)).name).toBe(
      created.name,
    );
    const other = { token: await mintToken({ sub: 'svc-other', scope: 'deletion:request' }) };
    expect((await b.client.cancelDeletion({ name: created.name }, other)).state).toBe(
      DeletionRequest_State.STATE_CANCELLED,
    );
  });
});

describe('the read budget, counted by each replica on its own', () => {
  const READS = 2;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ RATE_LIMIT_READS: String(READS) });
    b = await startTestApp({ RATE_LIMIT_READS: String(READS), MONGODB_DB: a.dbName });
  });
  afterAll(async () => {
    await b[Symbol.asyncDispose]();
    await a[Symbol.asyncDispose]();
  });

  it('refuses the read past the budget on one replica, while another still has its own', async () => {
    const subjectId = newSubjectId('reader');
    await a.seedAccount({ id: subjectId });
    const reader = await castFor(subjectId);
    const { name } = await a.client.requestDeletion({ subjectId }, reader.self);
    for (let i = 0; i < READS; i += 1)
      expect((await a.client.getDeletionRequest({ name }, reader.self)).name).toBe(name);

    const refused = await callError(a.client.getDeletionRequest({ name }, reader.self));
    expect(refused.code).toBe(RESOURCE_EXHAUSTED);
    expect(refused.rich).toMatchObject({ reason: 'RATE_LIMITED', metadata: { limit: 'read' } });
    expect(refused.rich?.retryDelayMs).toBeGreaterThan(0);
    // Over tRPC on the same replica: the same budget, spent.
    const overTrpc = await fetch(
      `${a.trpcUrl}/getDeletionRequest?input=${encodeURIComponent(JSON.stringify({ name }))}`,
      { headers: { authorization: `Bearer ${reader.self.token}` } },
    );
    expect(overTrpc.status).toBe(429);

    for (let i = 0; i < READS; i += 1)
      expect((await b.client.getDeletionRequest({ name }, reader.self)).name).toBe(name);
    expect((await callError(b.client.getDeletionRequest({ name }, reader.self))).code).toBe(
      RESOURCE_EXHAUSTED,
    );
    // Nothing of it is in the shared store.
    expect(await a.app.connection.collection('rate_limits').countDocuments({ key: /^read/ })).toBe(
      0,
    );
  });
});

describe('the rate-limit sweeper', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_SWEEP_MS: '100' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('deletes entries whose window is over, and stores no id of a person', async () => {
    const subjectId = newSubjectId('swept');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    await t.client.requestDeletion({ subjectId }, cast.self);
    const db = t.app.connection;
    const stored = async () => [
      ...(await db.collection('rate_limits').find().toArray()),
      ...(await db.collection('rate_limit_slots').find().toArray()),
    ];
    const before = await stored();
    expect(before.length).toBeGreaterThanOrEqual(2); // the principal's counter and the code's slot
    expect(JSON.stringify(before)).not.toContain(subjectId);

    t.clock.advance(2 * 3600 * 1000);

    // The sweeper runs on its own timer: wait for it, and show what is left if it never comes.
    await vi.waitFor(async () => expect(await stored()).toEqual([]), {
      timeout: 10_000,
      interval: 50,
    });
  });
});
