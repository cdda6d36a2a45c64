import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startFakeParticipant,
  participantsConfig,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('Suspend at soft delete, Restore at undelete', () => {
  let t: TestApp;
  let crm: FakeParticipant;
  let search: FakeParticipant;
  beforeAll(async () => {
    crm = await startFakeParticipant('crm');
    search = await startFakeParticipant('search');
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '86400',
      RETRY_BASE_MS: '1000',
      RETRY_CAP_MS: '2000',
      PARTICIPANTS: participantsConfig([crm, search], { phases: ['suspend', 'restore', 'erase'] }),
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await crm[Symbol.asyncDispose]();
    await search[Symbol.asyncDispose]();
  });

  it('suspends everywhere after a soft delete and restores everywhere after an undelete, each once', async () => {
    const { cast, created, confirmed: scheduled } = await t.scheduled();

    expect((await t.app.runWorkerPass()).notified).toBe(1);
    await t.app.runWorkerPass();
    expect(crm.notices).toEqual([`suspend:${created.name}`]);
    expect(search.notices).toEqual([`suspend:${created.name}`]);

    await t.client.undeleteDeletionRequest({ name: created.name, etag: scheduled.etag }, cast.self);
    await t.app.runWorkerPass();
    await t.app.runWorkerPass();

    expect(crm.notices).toEqual([`suspend:${created.name}`, `restore:${created.name}`]);
    expect(search.notices).toEqual([`suspend:${created.name}`, `restore:${created.name}`]);
    expect(crm.calls).toEqual([]);
  });

  it('sends a Suspend again, after a back-off, to a service that was down', async () => {
    search.behaviour = { failNoticesFirst: search.notices.length + 1 };
    const { created } = await t.scheduled();

    const failedAt = t.clock.now().getTime();
    await t.app.runWorkerPass();
    const owed = (await t.app.deps.requests.findById(created.name.split('/')[1] as never))!.notices;
    expect(owed).toMatchObject({ phase: 'suspend', pending: ['search'], attempts: 1 });
    // Full jitter: due again somewhere within the first back-off ceiling (1 s).
    expect(owed!.dueAt.getTime()).toBeGreaterThanOrEqual(failedAt);
    expect(owed!.dueAt.getTime()).toBeLessThanOrEqual(t.clock.now().getTime() + 1000);
    expect(search.notices.filter((n) => n === `suspend:${created.name}`)).toHaveLength(1);

    t.clock.advance(2001);
    await t.app.runWorkerPass();

    expect(search.notices.filter((n) => n === `suspend:${created.name}`)).toHaveLength(2);
    expect(crm.notices.filter((n) => n === `suspend:${created.name}`)).toHaveLength(1);
    expect(
      (await t.app.deps.requests.findById(created.name.split('/')[1] as never))!.notices,
    ).toBeNull();
  });
});
