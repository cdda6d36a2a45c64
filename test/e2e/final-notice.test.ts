import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DELETION_REQUEST_VERSIONS } from '../../src/persistence/mongo/version-claims.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The subject is told once everything is erased, and the request completes
 * only then (docs/design.md §2), with nothing of their contact left.
 */
describe('final notice to the subject', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      RETRY_BASE_MS: '1000',
      RETRY_CAP_MS: '2000',
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  const mailTo = (address: string) => t.smtp.messages.filter((mail) => mail.to.includes(address));
  const storedDocuments = async (id: string) => [
    await t.app.connection.collection('deletion_requests').findOne({ _id: id as never }),
    ...(await t.app.connection
      .collection(DELETION_REQUEST_VERSIONS)
      .find({ requestId: id })
      .toArray()),
  ];

  it('tells the subject once the erasure is complete, then deletes the address everywhere', async () => {
    const { subjectId, id, name, cast } = await t.scheduled();
    const address = t.emailOf(subjectId);

    const pass = await t.app.runWorkerPass();

    expect(pass).toMatchObject({ completed: 1, failures: [] });
    const notices = mailTo(address).filter((mail) => mail.raw.includes('has been deleted'));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.raw).toContain(id);
    const request = await t.client.getDeletionRequest({ name }, cast.self);
    expect(request.finalNoticeTime).toBeInstanceOf(Date);
    // The request and every stored version of it forget the address (older snapshots are pruned).
    await vi.waitFor(
      async () => expect(JSON.stringify(await storedDocuments(id))).not.toContain(address),
      { timeout: 10_000 },
    );
  });

  it('waits to complete while the mail server is down, keeping the address only until it is sent', async () => {
    const { subjectId, id, name, cast } = await t.scheduled();
    const address = t.emailOf(subjectId);
    // The pass sends the receipt (refused: the scheduled notice waits behind it), then the final notice (refused).
    t.smtp.refuseNext(2);
    const before = t.clock.now().getTime();

    const failed = await t.app.runWorkerPass();
    const after = t.clock.now().getTime();

    expect(failed).toMatchObject({ completed: 0, failures: [] });
    const waiting = (await t.app.deps.requests.findById(id))!;
    expect(waiting).toMatchObject({
      state: 'ERASING',
      localErasure: { accounts: 1 },
      finalNotice: { contact: { email: address }, attempts: 1, sentAt: null },
      leaseOwner: null,
    });
    // Retried after a jittered delay under the 1 s ceiling, counted from the failure (in the pass).
    const dueAt = waiting.finalNotice!.dueAt!.getTime();
    expect(dueAt).toBeGreaterThanOrEqual(before);
    expect(dueAt).toBeLessThanOrEqual(after + 1000);
    expect(waiting.leaseUntil).toEqual(waiting.finalNotice!.dueAt);
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
    expect(mailTo(address).filter((mail) => mail.raw.includes('has been deleted'))).toHaveLength(0);

    t.clock.advance(1000);
    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1, failures: [] });
    expect(mailTo(address).filter((mail) => mail.raw.includes('has been deleted'))).toHaveLength(1);
    const done = (await t.app.deps.requests.findById(id))!;
    expect(done).toMatchObject({
      state: 'COMPLETED',
      finalNotice: { contact: null, attempts: 2 },
    });
    expect(JSON.parse(done.report!.payload)).toMatchObject({ local: { accounts: 1 } });
    // The report the retried notice carried is the one kept while waiting: not signed again.
    expect(done.report).toEqual(waiting.report);
    expect((await t.client.getDeletionRequest({ name }, cast.self)).finalNoticeTime).toBeInstanceOf(
      Date,
    );
  });

  it('finishes a purge that died after destroying the key with what the first one erased and told', async () => {
    const { subjectId, id } = await t.scheduled();
    const address = t.emailOf(subjectId);
    const requests = t.app.deps.requests;
    const update = requests.update.bind(requests);
    // The worker dies between destroying the key and writing COMPLETED.
    const died = vi
      .spyOn(requests, 'update')
      .mockImplementation(async (next, previous) =>
        next.state === 'COMPLETED'
          ? Promise.reject(new Error('worker died'))
          : update(next, previous),
      );
    const first = await t.app.runWorkerPass().finally(() => died.mockRestore());
    expect(first).toMatchObject({ completed: 0, failures: [{ step: 'purge' }] });
    const stuck = (await t.app.deps.requests.findById(id))!;
    // What went here and the signed report were kept before the subject was told.
    expect(stuck).toMatchObject({ state: 'ERASING', localErasure: { accounts: 1 } });
    expect(stuck.report).not.toBeNull();
    expect(await t.count('accounts', { _id: subjectId })).toBe(0);
    expect(mailTo(address).filter((mail) => mail.raw.includes('has been deleted'))).toHaveLength(1);

    // Once the dead worker's lease runs out, the next one finishes: nothing left to erase or to
    // send to (the key is gone), so the counts and the report are the ones kept, and the notice's
    // outcome comes from the ledger.
    t.clock.advance(61_000);
    try {
      expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1, failures: [] });
    } finally {
      t.clock.advance(-61_000);
    }
    const done = (await t.app.deps.requests.findById(id))!;
    expect(done.state).toBe('COMPLETED');
    expect(done.subjectKeyDestroyedAt).toBeInstanceOf(Date);
    // A purge counting afresh would find no account left: 0.
    expect(done.localErasure).toMatchObject({ accounts: 1 });
    expect(JSON.parse(done.report!.payload)).toMatchObject({ local: { accounts: 1 } });
    // The report the subject was sent is the one kept: not signed again.
    expect(done.report).toEqual(stuck.report);
    // The report the subject was sent is the one kept: not signed again.
    expect(done.report).toEqual(stuck.report);
    expect(done.finalNotice).toMatchObject({ contact: null, sentAt: expect.any(Date) as Date });
    expect(done.sentNotices.find((sent) => sent.kind === 'COMPLETED')).toMatchObject({
      outcome: 'SENT',
      channel: 'email',
    });
    expect(mailTo(address).filter((mail) => mail.raw.includes('has been deleted'))).toHaveLength(1);
    await vi.waitFor(
      async () => {
        const events = await t.app.deps.audit.log.list({ deletionRequestId: id }, 0, 100);
        expect(events.map((event) => event.kind).slice(-2)).toEqual([
          'STATE_CHANGED',
          'KEY_DESTROYED',
        ]);
        expect(events.filter((event) => event.kind === 'KEY_DESTROYED')).toHaveLength(1);
      },
      { timeout: 10_000 },
    );
  });

  it('drops the address unsent when the mail server refuses it for good, and completes', async () => {
    const { subjectId, id } = await t.scheduled();
    // The address is refused for good: the receipt, the scheduled notice and the final notice.
    t.smtp.refuseNext(3, 550);

    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1, failures: [] });

    expect(mailTo(t.emailOf(subjectId))).toHaveLength(1); // the confirmation code only
    expect((await t.app.deps.requests.findById(id))!.finalNotice).toEqual({
      contact: null,
      attempts: 1,
      dueAt: null,
      sentAt: null,
    });
  });
});
