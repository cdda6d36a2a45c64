import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionRequest_State as State } from '../../src/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('recovery from crashes and outages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', LEASE_SECONDS: '30' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const scheduled = () => t.scheduled({ sessions: 2, tokens: 2 });

  const requests = () =>
    t.app.connection.collection<{ _id: string; version: number }>('deletion_requests');

  it('resumes a purge whose worker died holding the lease, once the lease expires', async () => {
    const { subjectId, cast, name, id } = await scheduled();
    const now = t.clock.now();
    // A worker claimed the purge and died before erasing anything.
    await requests().updateOne(
      { _id: id },
      {
        $set: {
          state: 'ERASING',
          leaseOwner: 'dead-worker',
          leaseUntil: new Date(now.getTime() + 30_000),
        },
        $inc: { version: 1 },
      },
    );

    await t.app.runWorkerPass();
    expect((await t.client.getDeletionRequest({ name }, cast.self)).state).toBe(
      State.STATE_ERASING,
    );
    expect(await t.count('accounts', { _id: subjectId })).toBe(1);

    t.clock.advance(31_000);
    try {
      await t.app.runWorkerPass();
    } finally {
      t.clock.advance(-31_000);
    }
    const done = await t.client.getDeletionRequest({ name }, cast.self);
    expect(done.state).toBe(State.STATE_COMPLETED);
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
    expect(await t.count('api_tokens', { subjectId })).toBe(0);
  });

  it('finishes a soft delete whose account side effects a crash left undone', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId, sessions: 3 });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const id = created.name.split('/')[1]!;
    // The process died right after writing SCHEDULED, before suspending the account.
    await requests().updateOne(
      { _id: id },
      {
        $set: {
          state: 'SCHEDULED',
          accountSynced: false,
          deletedAt: t.clock.now(),
          purgeAt: new Date(t.clock.now().getTime() + 86_400_000),
          activeKey: subjectId,
        },
        $inc: { version: 1 },
      },
    );
    expect(await t.accountStatus(subjectId)).toBe('ACTIVE');

    t.clock.advance(11_000);
    try {
      const pass = await t.app.runWorkerPass();
      expect(pass.settled).toBeGreaterThanOrEqual(1);
    } finally {
      t.clock.advance(-11_000);
    }
    expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
    expect(await t.count('sessions', { subjectId })).toBe(0);
  });
});

describe('when the mail server is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SMTP_URL: 'smtp://127.0.0.1:9' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('answers UNAVAILABLE and keeps no request the subject could not confirm', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);

    const error = await callError(t.client.requestDeletion({ subjectId }, cast.self));

    expect(error.code).toBe(14);
    expect(error.reason).toBe('CODE_DELIVERY_FAILED');
    expect(await t.count('deletion_requests', { subjectId })).toBe(0);
  });
});
