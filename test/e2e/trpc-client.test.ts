import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeletionClient,
  type DeletionClient,
  type DeletionEventView,
} from '../../clients/trpc/deletion-client.js';
import { hashApiKey } from '../../src/crypto/api-key-hash.js';
import { putApiKey } from '../../src/persistence/mongo/mongo-api-key-store.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { trpcFailure } from '../support/trpc-failure.js';

/** Collects a subscription's events until the server ends it (or it fails). */
const collect = (
  client: DeletionClient,
  input: { name: string; lastEventId?: string },
): { events: DeletionEventView[]; ids: string[]; done: Promise<void>; stop: () => void } => {
  const events: DeletionEventView[] = [];
  const ids: string[] = [];
  let stop = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const subscription = client.watchDeletionRequest.subscribe(input, {
      onData: (event) => {
        ids.push(event.id);
        events.push(event.data);
      },
      onError: reject,
      onComplete: resolve,
    });
    stop = () => subscription.unsubscribe();
  });
  return { events, ids, done, stop };
};

describe('clients/trpc against the running service', () => {
  let t: TestApp;
  let fake: FakeParticipant;
  beforeAll(async () => {
    fake = await startFakeParticipant('crm');
    t = await startTestApp({ PARTICIPANTS: participantsConfig([fake]), WATCH_POLL_MS: '30' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await fake[Symbol.asyncDispose]();
  });

  it('runs a deletion with a token fetched per request, batching calls of one tick', async () => {
    const subjectId = newSubjectId('trpc');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const requests: string[] = [];
    let tokens = 0;
    const client = createDeletionClient({
      url: t.trpcUrl,
      token: () => {
        tokens += 1;
        return cast.self.token;
      },
      fetch: (input, init) => {
        requests.push(
          `${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : input).pathname}`,
        );
        return fetch(input, init);
      },
    });
    const since = t.smtp.messages.length;

    const created = await client.requestDeletion.mutate({ subjectId, reason: 'leaving' });
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    const confirmed = await client.confirmDeletion.mutate({ name: created.name, code });
    const [read, page, report] = await Promise.allSettled([
      client.getDeletionRequest.query({ name: created.name }),
      client.listDeletionRequests.query({ subjectId }),
      client.getErasureReport.query({ name: created.name }),
    ]);

    expect(created).toMatchObject({ state: 'REQUESTED', subjectId, reason: 'leaving' });
    expect(created.name).toMatch(/^deletionRequests\/[a-z0-9-]+$/);
    expect(Date.parse(created.legalDeadline)).toBeGreaterThan(Date.parse(created.createTime));
    expect(confirmed).toMatchObject({ state: 'SCHEDULED', confirmationMethod: 'ONE_TIME_CODE' });
    expect(read.status === 'fulfilled' && read.value.etag).toBe(confirmed.etag);
    expect(page.status === 'fulfilled' && page.value.deletionRequests.map((r) => r.name)).toEqual([
      created.name,
    ]);
    expect(report.status).toBe('rejected');
    expect(requests).toEqual([
      'POST /trpc/requestDeletion',
      'POST /trpc/confirmDeletion',
      'GET /trpc/getDeletionRequest,listDeletionRequests,getErasureReport',
    ]);
    expect(tokens).toBe(3);
    expect(JSON.stringify(confirmed)).not.toMatch(/codeHash|mail\.test|leaseOwner|fingerprint/i);
  });

  it('authenticates with an API key', async () => {
    const key = 'trpc-test-key-0123456789';
    await putApiKey(t.app.connection, {
      name: 'support-console',
      hash: hashApiKey(key),
      scopes: ['deletion:read'],
    });
    const subject = await t.requested({ prefix: 'apikey' });
    const client = createDeletionClient({ url: t.trpcUrl, apiKey: key });

    const read = await client.getDeletionRequest.query({ name: subject.name });
    const denied = await trpcFailure(client.cancelDeletion.mutate({ name: subject.name }));

    expect(read.state).toBe('REQUESTED');
    expect(denied.data).toMatchObject({ code: 'FORBIDDEN', status: 'PERMISSION_DENIED' });
  });

  it('delivers every state and participant change of a deletion, in order, then ends', async () => {
    const subject = await t.requested({ prefix: 'watch' });
    const client = createDeletionClient({ url: t.trpcUrl, token: subject.cast.self.token });
    const watch = collect(client, { name: subject.name });
    await expect.poll(() => watch.events.length).toBe(1);

    await client.confirmDeletion.mutate({ name: subject.name, code: subject.code });
    await t.app.runWorkerPass();
    await watch.done;

    const { events, ids } = watch;
    expect(events[0]).toMatchObject({ kind: 'SNAPSHOT', request: { state: 'REQUESTED' } });
    const changes = events.flatMap((event) =>
      event.kind === 'STATE_CHANGED' ? [`${event.change.fromState}→${event.change.toState}`] : [],
    );
    expect(changes).toEqual(['REQUESTED→SCHEDULED', 'SCHEDULED→ERASING', 'ERASING→COMPLETED']);
    const crm = events.flatMap((event) =>
      event.kind === 'PARTICIPANT_CHANGED' ? [event.participant] : [],
    );
    expect(crm.at(-1)).toMatchObject({
      participant: 'crm',
      status: 'DONE',
      outcome: { kind: 'ERASED', records: 3 },
    });
    const last = events.at(-1);
    expect(last?.kind !== 'RECONNECT' && last?.request.state).toBe('COMPLETED');
    // The subject's contact (held until the final notice), code hash, lease and keys never leave.
    expect(JSON.stringify(events)).not.toMatch(
      /mail\.test|codeHash|verification|finalNotice"|leaseOwner|idempotencyKey|fingerprint/i,
    );
    const times = events.flatMap((event) => {
      if (event.kind === 'STATE_CHANGED') return [Date.parse(event.change.time)];
      if (event.kind === 'PARTICIPANT_CHANGED') return [Date.parse(event.participant.updateTime)];
      return [];
    });
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(ids[0]).toBe('0');
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
  });

  it('resumes after the last event it saw, missing no state change', async () => {
    const subject = await t.scheduled({ prefix: 'resume' });
    await t.app.runWorkerPass();
    const client = createDeletionClient({ url: t.trpcUrl, token: subject.cast.self.token });

    const watch = collect(client, { name: subject.name, lastEventId: '1' });
    await watch.done;

    expect(
      watch.events.map((event) =>
        event.kind === 'STATE_CHANGED' ? event.change.toState : event.kind,
      ),
    ).toEqual(['ERASING', 'PARTICIPANT_CHANGED', 'COMPLETED']);
  });

  it('refuses to watch what the caller may not read, and callers without credentials', async () => {
    const subject = await t.requested({ prefix: 'nosy' });
    const stranger = await castFor(newSubjectId('stranger'));
    const asStranger = createDeletionClient({ url: t.trpcUrl, token: stranger.self.token });
    const anonymous = createDeletionClient({ url: t.trpcUrl });

    const denied = await trpcFailure(collect(asStranger, { name: subject.name }).done);
    const unauthenticated = await trpcFailure(collect(anonymous, { name: subject.name }).done);

    expect(denied.data).toMatchObject({ code: 'FORBIDDEN', reason: 'PERMISSION_DENIED' });
    expect(unauthenticated.data).toMatchObject({
      code: 'UNAUTHORIZED',
      reason: 'MISSING_CREDENTIALS',
    });
  });

  it('gives up on a service that does not answer, at the deadline', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const client = createDeletionClient({
      url: `http://127.0.0.1:${String(port)}/trpc`,
      token: 'any',
      timeoutMs: 300,
    });

    const error = await trpcFailure(
      client.getDeletionRequest.query({ name: 'deletionRequests/x' }),
    );

    silent.closeAllConnections();
    silent.close();
    // Its own deadline ended it (not the test's timeout, not a refused connection); how long
    // that takes on a loaded machine is the benchmarks' business.
    expect(error.message).toBe('the deadline passed');
    expect(error.cause).toMatchObject({ name: 'TimeoutError' });
    expect(error.data).toBeUndefined();
  });

  it('answers invalid input with field errors and no stack, on the wire', async () => {
    const subject = await t.requested({ prefix: 'wire' });

    const response = await fetch(`${t.trpcUrl}/cancelDeletion`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${subject.cast.self.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'requests/nope', etag: 7 }),
    });
    const body = (await response.json()) as { error: { message: string; data: object } };

    expect(response.status).toBe(400);
    expect(body.error.data).toEqual({
      code: 'BAD_REQUEST',
      httpStatus: 400,
      path: 'cancelDeletion',
      status: 'INVALID_ARGUMENT',
      reason: 'INVALID_ARGUMENT',
      metadata: {},
      fieldErrors: {
        name: ['must be deletionRequests/{id}'],
        etag: ['Invalid input: expected string, received number'],
      },
    });
  });
});

describe('clients/trpc: a watch that the server ends early resumes without a gap', () => {
  let t: TestApp;
  let fake: FakeParticipant;
  beforeAll(async () => {
    fake = await startFakeParticipant('crm');
    t = await startTestApp({
      PARTICIPANTS: participantsConfig([fake]),
      WATCH_POLL_MS: '30',
      WATCH_STREAM_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await fake[Symbol.asyncDispose]();
  });

  it('reconnects with the last event id and gets every state change exactly once', async () => {
    const subject = await t.requested({ prefix: 'reconnect' });
    const connects: (string | null)[] = [];
    const client = createDeletionClient({
      url: t.trpcUrl,
      token: subject.cast.self.token,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        if (headers.get('accept') === 'text/event-stream')
          connects.push(headers.get('last-event-id'));
        return fetch(input, init);
      },
    });
    const watch = collect(client, { name: subject.name });

    await client.confirmDeletion.mutate({ name: subject.name, code: subject.code });
    await expect.poll(() => connects.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await t.app.runWorkerPass();
    await watch.done;

    const changes = watch.events.flatMap((event) =>
      event.kind === 'STATE_CHANGED' ? [`${event.change.fromState}→${event.change.toState}`] : [],
    );
    expect(changes).toEqual(['REQUESTED→SCHEDULED', 'SCHEDULED→ERASING', 'ERASING→COMPLETED']);
    expect(watch.events.filter((event) => event.kind === 'SNAPSHOT')).toHaveLength(1);
    expect(connects[0]).toBeNull();
    expect(connects.slice(1)).toContain('1');
  });
});
