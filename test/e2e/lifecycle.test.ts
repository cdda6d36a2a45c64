import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionRequest_State as State } from '../../src/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('deletion lifecycle over gRPC (grace period 0)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const requestAndConfirm = async (subjectId: string) => {
    const cast = await castFor(subjectId);
    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion({ subjectId, reason: 'leaving' }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    const confirmed = await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    return { cast, created, confirmed };
  };

  it('erases the account, its sessions and tokens, and completes', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId, sessions: 3, tokens: 2 });
    const { cast, created, confirmed } = await requestAndConfirm(subjectId);

    expect(created.state).toBe(State.STATE_REQUESTED);
    expect(created.name).toMatch(/^deletionRequests\/[a-z0-9-]+$/);
    expect(created.legalDeadline!.getTime()).toBeGreaterThan(created.createTime!.getTime());
    expect(confirmed.state).toBe(State.STATE_SCHEDULED);
    expect(confirmed.deleteTime).toBeDefined();
    expect(confirmed.purgeTime!.getTime()).toBe(confirmed.deleteTime!.getTime());
    expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
    expect(await t.count('sessions', { subjectId })).toBe(0);

    await t.app.runWorkerPass();

    const done = await t.client.getDeletionRequest({ name: created.name }, cast.self);
    expect(done.state).toBe(State.STATE_COMPLETED);
    expect(done.completeTime).toBeDefined();
    expect(done.history.map((h) => h.toState)).toEqual([
      State.STATE_SCHEDULED,
      State.STATE_ERASING,
      State.STATE_COMPLETED,
    ]);
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
    expect(await t.count('sessions', { subjectId })).toBe(0);
    expect(await t.count('api_tokens', { subjectId })).toBe(0);
  });

  it('cancels a request before it is confirmed, leaving the account untouched', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);

    const cancelled = await t.client.cancelDeletion(
      { name: created.name, etag: created.etag },
      cast.self,
    );

    expect(cancelled.state).toBe(State.STATE_CANCELLED);
    expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
    expect(await t.count('sessions', { subjectId })).toBe(2);
    const again = await t.client.requestDeletion({ subjectId }, cast.self);
    expect(again.state).toBe(State.STATE_REQUESTED);
  });

  it('refuses undelete once erasing has started', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const { cast, created } = await requestAndConfirm(subjectId);
    await t.app.runWorkerPass();

    const error = await callError(
      t.client.undeleteDeletionRequest({ name: created.name }, cast.self),
    );

    expect(error.code).toBe(9);
    expect(error.reason).toBe('INVALID_STATE');
  });

  it('keeps one active request per subject and names it', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const first = await t.client.requestDeletion({ subjectId }, cast.self);

    const error = await callError(t.client.requestDeletion({ subjectId }, cast.service));

    expect(error.code).toBe(6);
    expect(error.reason).toBe('DELETION_ALREADY_ACTIVE');
    expect(error.rich?.metadata.deletionRequest).toBe(first.name);
  });
});

describe('deletion lifecycle over gRPC (grace period 1 day)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '86400' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('restores the account during the grace period; revoked sessions stay revoked', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId, sessions: 2 });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    const scheduled = await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    expect(scheduled.purgeTime!.getTime() - scheduled.deleteTime!.getTime()).toBe(86_400_000);
    await t.app.runWorkerPass();
    expect((await t.client.getDeletionRequest({ name: created.name }, cast.self)).state).toBe(
      State.STATE_SCHEDULED,
    );

    const restored = await t.client.undeleteDeletionRequest(
      { name: created.name, etag: scheduled.etag },
      cast.self,
    );

    expect(restored.state).toBe(State.STATE_RESTORED);
    expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
    expect(await t.count('sessions', { subjectId })).toBe(0);
    await t.app.runWorkerPass();
    expect(await t.count('accounts', { _id: subjectId })).toBe(1);
  });

  it('refuses undelete after the grace period is over', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    t.clock.advance(86_400_000 + 1000);

    const error = await callError(
      t.client.undeleteDeletionRequest({ name: created.name }, cast.self),
    );

    expect(error.reason).toBe('GRACE_PERIOD_OVER');
    t.clock.advance(-(86_400_000 + 1000));
  });

  it('expires requests that are not confirmed in time', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    t.clock.advance(10 * 60_000 + 1000);

    const pass = await t.app.runWorkerPass();

    expect(pass.expired).toBeGreaterThanOrEqual(1);
    const expired = await t.client.getDeletionRequest({ name: created.name }, cast.self);
    expect(expired.state).toBe(State.STATE_EXPIRED);
    const late = await callError(t.client.confirmDeletion({ name: created.name, code }, cast.self));
    expect(late.reason).toBe('INVALID_STATE');
    t.clock.advance(-(10 * 60_000 + 1000));
  });
});
