import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Notifier } from '../../src/app/ports/notifier.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { DeletionRequest_State } from '../../src/gen/deletion/v1/deletion_request.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startProviderStub, type ProviderStub } from '../support/provider-stub.js';
import { startTestApp, type SeedAccount, type TestApp } from '../support/test-app.js';

/** The SMS provider's settings for a test app, pointing at the stub. */
const smsEnv = (provider: ProviderStub, more: Record<string, string> = {}) => ({
  SMS_API_URL: provider.url,
  SMS_ACCOUNT: 'AC0001',
  SMS_TOKEN: 'sms-token',
  SMS_FROM: '+4930000000',
  NOTICE_ATTEMPTS: '1',
  ...more,
});

const disposables: AsyncDisposable[] = [];
afterEach(async () => {
  for (const disposable of disposables.splice(0).reverse()) await disposable[Symbol.asyncDispose]();
});
const started = async <T extends AsyncDisposable>(what: Promise<T>): Promise<T> => {
  const value = await what;
  disposables.push(value);
  return value;
};

/** The SMS bodies the provider accepted for `phone`, in order. */
const smsTo = (provider: ProviderStub, phone: string): string[] =>
  provider.accepted
    .map((request) => new URLSearchParams(request.body))
    .filter((form) => form.get('To') === phone)
    .map((form) => form.get('Body') ?? '');

/** The subjects of the mails the sink received for `to`, in order (decoded). */
const mailSubjects = (t: TestApp, to: string): string[] =>
  t.smtp.messages
    .filter((mail) => mail.to.includes(to))
    .map((mail) => /^Subject: (.*)$/m.exec(mail.raw)?.[1] ?? '');

/** What the request records it told its subject. */
const sentNotices = async (t: TestApp, id: string) =>
  (
    (await t.app.connection
      .collection('deletion_requests')
      .findOne({ _id: id as never })) as unknown as {
      sentNotices: { kind: string; outcome: string; channel: string; messageId: string }[];
      outbox: unknown[];
    }
  ).sentNotices;

/** Asks for the deletion of a seeded account as its subject; the code comes from `readCode`. */
const ask = async (t: TestApp, account: SeedAccount) => {
  await t.seedAccount(account);
  const cast = await castFor(account.id);
  const created = await t.client.requestDeletion({ subjectId: account.id }, cast.self);
  return { cast, name: created.name, id: created.name.split('/')[1] ?? '' };
};

describe('notices to the subject', () => {
  it('tells a subject who prefers SMS every step by SMS, in German, and nothing else', async () => {
    const provider = await started(startProviderStub());
    const t = await started(startTestApp(smsEnv(provider)));
    const phone = '+4915100000001';
    const account = {
      id: newSubjectId('sms'),
      phone,
      notifyBy: 'sms',
      locale: 'de-DE',
    } as const;
    const { cast, name, id } = await ask(t, account);
    const code = /(\d{6,10})/.exec(smsTo(provider, phone)[0] ?? '')?.[1] ?? '';
    expect(code).not.toBe('');
    await t.app.runWorkerPass(); // the receipt
    await t.client.confirmDeletion({ name, code }, cast.self);
    await t.app.runWorkerPass(); // scheduled, then (grace 0) the purge and the final notice

    const texts = smsTo(provider, phone);
    expect(texts).toHaveLength(4);
    expect(texts[0]).toMatch(/^Ihr Code zur Bestätigung der Kontolöschung: \d+/);
    expect(texts[1]).toContain(`Wir haben einen Antrag auf Löschung Ihres Kontos erhalten (${id})`);
    expect(texts[2]).toMatch(/^Ihr Konto wird am \d+\. \p{L}+ \d{4} gelöscht/u);
    expect(texts[3]).toBe(
      `Ihr Konto wurde gelöscht (${id}). Dies ist unsere letzte Nachricht an Sie.`,
    );
    for (const text of texts) {
      expect(text).not.toContain(account.id);
      expect(text).not.toContain(t.emailOf(account.id));
      expect(text).not.toContain(phone);
    }
    expect(mailSubjects(t, t.emailOf(account.id))).toEqual([]);
    expect(await sentNotices(t, id)).toEqual([
      expect.objectContaining({
        kind: 'RECEIPT',
        outcome: 'SENT',
        channel: 'sms',
        messageId: 'MSG000002',
      }),
      expect.objectContaining({
        kind: 'SCHEDULED',
        outcome: 'SENT',
        channel: 'sms',
        messageId: 'MSG000003',
      }),
      expect.objectContaining({
        kind: 'COMPLETED',
        outcome: 'SENT',
        channel: 'sms',
        messageId: 'MSG000004',
      }),
    ]);
    expect(provider.requests.map((request) => request.headers['idempotency-key'])).toEqual([
      `${id}/CONFIRMATION_CODE`,
      `${id}/RECEIPT@0`,
      `${id}/SCHEDULED@1`,
      `${id}/COMPLETED`,
    ]);
  });

  it('tells a subject who prefers e-mail by e-mail: awaiting approval, then rejected', async () => {
    const provider = await started(startProviderStub());
    const t = await started(startTestApp(smsEnv(provider)));
    const account = { id: newSubjectId('mail'), flagged: true, phone: '+4915100000002' };
    const to = t.emailOf(account.id);
    const { cast, name } = await ask(t, account);
    const code = await t.smtp.waitForCode(to);
    await t.client.confirmDeletion({ name, code }, cast.self);
    await t.app.runWorkerPass();
    await t.client.rejectDeletion({ name, reason: 'ticket 42' }, cast.approver);
    await t.app.runWorkerPass();

    expect(mailSubjects(t, to)).toEqual([
      'Confirm the deletion of your account',
      'We received your request to delete your account',
      'Your deletion request is being reviewed',
      'Your account was not deleted',
    ]);
    expect(provider.requests).toHaveLength(0);
    // The reviewer's note is theirs, not the subject's notice.
    for (const mail of t.smtp.messages) expect(mail.raw).not.toContain('ticket 42');
  });

  it('tells the subject their account is restored after an undelete', async () => {
    const t = await started(startTestApp({ GRACE_PERIOD_SECONDS: '3600' }));
    const { subjectId, name, cast } = await t.scheduled();
    await t.client.undeleteDeletionRequest({ name }, cast.self);
    await t.app.runWorkerPass();
    expect(mailSubjects(t, t.emailOf(subjectId))).toEqual([
      'Confirm the deletion of your account',
      'We received your request to delete your account',
      'Your account will be deleted',
      'Your account is restored',
    ]);
  });

  it('sends the notices a call owes once it has answered, with no worker, recorded with the account in one write', async () => {
    const t = await started(
      startTestApp({ GRACE_PERIOD_SECONDS: String(86_400) }, { immediateAfterwards: true }),
    );
    const subjectId = newSubjectId('at-once');
    const { cast, name, id } = await ask(t, { id: subjectId });
    const stored = () => t.app.deps.requests.findById(id as never);
    // The receipt goes after the answer: the insert claimed it, so no worker would find it due.
    await vi.waitFor(async () => expect((await stored())?.sentNotices).toHaveLength(1), {
      timeout: 10_000,
    });
    expect(await stored()).toMatchObject({ version: 2, outbox: [] });
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));

    await t.client.confirmDeletion({ name, code }, cast.self);
    expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');

    await vi.waitFor(async () => expect((await stored())?.sentNotices).toHaveLength(2), {
      timeout: 10_000,
    });
    // Confirmed (version 3), then the scheduled notice and the account's settlement: one write.
    expect(await stored()).toMatchObject({
      version: 4,
      state: 'SCHEDULED',
      accountSynced: true,
      outbox: [],
      sentNotices: [
        expect.objectContaining({ kind: 'RECEIPT', outcome: 'SENT' }),
        expect.objectContaining({ kind: 'SCHEDULED', outcome: 'SENT' }),
      ],
    });
    expect(mailSubjects(t, t.emailOf(subjectId))).toHaveLength(3);
  });

  it('sends a notice once after the provider failed, across a restart in between', async () => {
    const provider = await started(startProviderStub());
    const env = smsEnv(provider, { RETRY_BASE_MS: '1', RETRY_CAP_MS: '1' });
    const first = await startTestApp(env, { keepDatabase: true });
    const phone = '+4915100000003';
    let id = '';
    try {
      ({ id } = await ask(first, { id: newSubjectId('restart'), phone, notifyBy: 'sms' }));
      // The receipt fails twice: sent after the request answered, then again by the pass.
      provider.queue({ status: 500 }, { status: 500 });
      await first.app.runWorkerPass();
      expect(provider.requests).toHaveLength(3);
      expect(smsTo(provider, phone)).toHaveLength(1);
    } finally {
      await first[Symbol.asyncDispose]();
    }

    const second = await started(startTestApp(env, { dbName: first.dbName }));
    await second.app.runWorkerPass();
    await second.app.runWorkerPass();
    const texts = smsTo(provider, phone);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toContain('We received a request to delete your account');
    expect(
      provider.requests.filter((r) => r.headers['idempotency-key'] === `${id}/RECEIPT@0`),
    ).toHaveLength(3);
    expect(await sentNotices(second, id)).toEqual([
      expect.objectContaining({ kind: 'RECEIPT', outcome: 'SENT', channel: 'sms' }),
    ]);
  });

  it('sends each notice once when two replicas work the outbox at the same time, the provider slow', async () => {
    const provider = await started(startProviderStub());
    const env = smsEnv(provider, { GRACE_PERIOD_SECONDS: String(86_400) });
    const first = await startTestApp(env, { keepDatabase: true });
    disposables.push(first);
    const second = await started(startTestApp(env, { dbName: first.dbName }));
    const phone = '+4915100000004';
    const { cast, name, id } = await ask(first, {
      id: newSubjectId('race'),
      phone,
      notifyBy: 'sms',
    });
    const code = /(\d{6,10})/.exec(smsTo(provider, phone)[0] ?? '')?.[1] ?? '';
    await first.client.confirmDeletion({ name, code }, cast.self);
    // The receipt and the scheduled notice are owed; each send takes 300 ms.
    provider.queue({ status: 201, delayMs: 300 }, { status: 201, delayMs: 300 });
    for (let round = 0; round < 3; round += 1)
      await Promise.all([first.app.runWorkerPass(), second.app.runWorkerPass()]);

    const sent = provider.requests.map((request) => request.headers['idempotency-key']);
    expect(sent.filter((key) => key === `${id}/RECEIPT@0`)).toHaveLength(1);
    expect(sent.filter((key) => key === `${id}/SCHEDULED@1`)).toHaveLength(1);
    expect((await sentNotices(second, id)).map((notice) => notice.kind)).toEqual([
      'RECEIPT',
      'SCHEDULED',
    ]);
  });

  it('keeps a change made while a notice was on its way, and the notice it owes', async () => {
    const holder: { code?: string; undo?: (() => Promise<unknown>) | undefined } = {};
    const told: string[] = [];
    const notifier: Notifier = {
      send: async ({ notice }) => {
        if (notice.kind === 'CONFIRMATION_CODE') holder.code = notice.code;
        // The subject undoes the deletion while the scheduled notice is being sent.
        if (notice.kind === 'SCHEDULED') await holder.undo?.();
        told.push(notice.kind);
        return { channel: 'email', messageId: `id-${notice.kind}` };
      },
    };
    const app = await started(startTestApp({ GRACE_PERIOD_SECONDS: String(86_400) }, { notifier }));
    const subjectId = newSubjectId('undone');
    await app.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const created = await app.client.requestDeletion({ subjectId }, cast.self);
    const id = created.name.split('/')[1] ?? '';
    await app.client.confirmDeletion({ name: created.name, code: holder.code ?? '' }, cast.self);
    holder.undo = () => app.client.undeleteDeletionRequest({ name: created.name }, cast.self);
    await app.app.runWorkerPass();

    // The undelete stands, the scheduled notice is recorded once, and the restored one is owed.
    const request = await app.app.deps.requests.findById(id as never);
    expect(request?.state).toBe('RESTORED');
    expect(request?.sentNotices.map((sent) => [sent.kind, sent.messageId])).toEqual([
      ['RECEIPT', 'id-RECEIPT'],
      ['SCHEDULED', 'id-SCHEDULED'],
    ]);
    holder.undo = undefined;
    await app.app.runWorkerPass();
    expect(told).toEqual(['CONFIRMATION_CODE', 'RECEIPT', 'SCHEDULED', 'RESTORED']);
    expect((await sentNotices(app, id)).map((sent) => sent.kind)).toEqual([
      'RECEIPT',
      'SCHEDULED',
      'RESTORED',
    ]);
  });

  it('withdraws a request whose code could not be sent, unreceipted, even after another write to it', async () => {
    const holder: { app?: TestApp } = {};
    let codesFail = true;
    const told: string[] = [];
    const notifier: Notifier = {
      send: async ({ notice }) => {
        if (notice.kind === 'CONFIRMATION_CODE' && codesFail) {
          // While the code is on its way a worker passes (the receipt is not its to send) and
          // someone else writes the request (a new version).
          await holder.app?.app.runWorkerPass();
          await holder.app?.app.connection
            .collection('deletion_requests')
            .updateOne({ _id: notice.deletionRequestId }, { $inc: { version: 1 } });
          throw new DomainError({
            code: 'UNAVAILABLE',
            reason: 'NOTIFIER_UNAVAILABLE',
            message: 'down',
          });
        }
        told.push(notice.kind);
        return { channel: 'email', messageId: null };
      },
    };
    const app = await started(startTestApp({}, { notifier }));
    holder.app = app;
    const subjectId = newSubjectId('withdrawn');
    await app.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    await expect(app.client.requestDeletion({ subjectId }, cast.self)).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    expect(told).toEqual([]);
    expect(await app.count('deletion_requests', { subjectId })).toBe(0);

    codesFail = false;
    const again = await app.client.requestDeletion({ subjectId }, cast.self);
    expect(again.state).toBe(DeletionRequest_State.STATE_REQUESTED);
    await app.app.runWorkerPass();
    expect(told).toEqual(['CONFIRMATION_CODE', 'RECEIPT']);
  });
});
