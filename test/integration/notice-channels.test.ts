import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NoticeDelivery } from '../../src/app/ports/notifier.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import type { Contact } from '../../src/domain/notices.js';
import { createNotifier } from '../../src/notify/notifier.js';
import {
  createPushChannel,
  PUSH_SIGNATURE_HEADER,
  signPushBody,
  verifyPushSignature,
} from '../../src/notify/push-channel.js';
import { createSmsChannel } from '../../src/notify/sms-channel.js';
import { createSmtpChannel } from '../../src/notify/smtp-channel.js';
import { startProviderStub, type ProviderStub } from '../support/provider-stub.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestCertificates } from '../support/test-certificates.js';

const contact: Contact = {
  email: 'subject@mail.test',
  phone: '+4915112345678',
  pushToken: 'device-token-1',
  preferredChannel: null,
  locale: 'de-DE',
};
const delivery = (to: Partial<Contact> = {}): NoticeDelivery => ({
  notice: {
    kind: 'SCHEDULED',
    deletionRequestId: 'req-7' as DeletionRequestId,
    purgeAt: new Date('2026-12-29T00:00:00Z'),
  },
  to: { ...contact, ...to },
  key: 'req-7/SCHEDULED',
});
const secret = 'push-webhook-secret-0123456789abcdef';
const run = promisify(execFile);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const stub = async (): Promise<ProviderStub> => {
  const started = await startProviderStub();
  cleanups.push(async () => {
    await started[Symbol.asyncDispose]();
  });
  return started;
};
const sink = async (): Promise<SmtpSink> => {
  const started = await startSmtpSink();
  cleanups.push(async () => {
    await started[Symbol.asyncDispose]();
  });
  return started;
};
const smtp = (url: string, timeoutsMs?: { connect: number; reply: number }) => {
  const channel = createSmtpChannel({
    url,
    from: 'deletion@example.test',
    ...(timeoutsMs && { timeoutsMs }),
  });
  cleanups.push(() => Promise.resolve(channel.close()));
  return channel;
};
const sms = (url: string, options: { attempts?: number; timeoutMs?: number } = {}) =>
  createSmsChannel({
    url,
    account: 'AC0001',
    token: 'sms-token',
    from: '+4930000000',
    backoffMs: 10,
    ...options,
  });

describe('the e-mail channel', () => {
  it('sends plain text and HTML through the SMTP server and returns its Message-ID', async () => {
    const mail = await sink();
    const notifier = createNotifier({ email: smtp(mail.url) });
    const receipt = await notifier.send(delivery());
    expect(receipt.channel).toBe('email');
    expect(receipt.messageId).toMatch(/^<.+>$/);
    expect(mail.messages).toHaveLength(1);
    const raw = mail.messages[0]?.raw ?? '';
    expect(mail.messages[0]?.to).toEqual(['subject@mail.test']);
    expect(raw).toContain('multipart/alternative');
    expect(raw).toContain('text/plain');
    expect(raw).toContain('text/html');
    expect(raw).toContain(`Message-ID: ${receipt.messageId ?? ''}`);
    // The same event sent again (a worker died before recording it) has the same Message-ID.
    expect((await notifier.send(delivery())).messageId).toBe(receipt.messageId);
    expect(receipt.messageId).toMatch(/^<[0-9a-f]{40}@/);
    // German account: the German template.
    expect(raw).toMatch(/Subject: .*(Konto|=C3=B6|=\?UTF-8\?)/);
  });

  it('gives up on a mail server that accepts the connection and never answers: UNAVAILABLE, in bounded time', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // never greets
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as AddressInfo;
    const notifier = createNotifier({
      email: smtp(`smtp://127.0.0.1:${String(port)}`, { connect: 300, reply: 300 }),
    });
    // Bounded by its connect and reply timeouts (300 ms each), not by the server: the test's
    // own time limit is what would catch a send that waits on.
    await expect(notifier.send(delivery())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  }, 10_000);
});

describe('the SMS channel (a Twilio-style provider)', () => {
  it('posts the short text to the Messages resource with basic auth and the event key, and returns the sid', async () => {
    const provider = await stub();
    const notifier = createNotifier({ sms: sms(provider.url) });
    const receipt = await notifier.send(delivery({ preferredChannel: 'sms' }));
    expect(receipt).toEqual({ channel: 'sms', messageId: 'MSG000001' });
    const [request] = provider.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/2010-04-01/Accounts/AC0001/Messages.json');
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from('AC0001:sms-token').toString('base64')}`,
    );
    expect(request?.headers['idempotency-key']).toBe('req-7/SCHEDULED');
    const form = new URLSearchParams(request?.body);
    expect(form.get('To')).toBe('+4915112345678');
    expect(form.get('From')).toBe('+4930000000');
    expect(form.get('Body')).toContain('Ihr Konto wird am 29. Dezember 2026 gelöscht');
    expect(form.get('Body')).not.toContain('subject@mail.test');
  });

  it('tries again after a 500 and sends the message once, with the same key', async () => {
    const provider = await stub();
    provider.queue({ status: 500 });
    const receipt = await createNotifier({ sms: sms(provider.url) }).send(
      delivery({ preferredChannel: 'sms' }),
    );
    expect(receipt.channel).toBe('sms');
    expect(provider.requests).toHaveLength(2);
    expect(provider.accepted).toHaveLength(1);
    expect(provider.requests.map((r) => r.headers['idempotency-key'])).toEqual([
      'req-7/SCHEDULED',
      'req-7/SCHEDULED',
    ]);
  });

  it('waits as a 429 asks, then sends', async () => {
    const provider = await stub();
    provider.queue({ status: 429, headers: { 'retry-after': '0' } });
    await createNotifier({ sms: sms(provider.url) }).send(delivery({ preferredChannel: 'sms' }));
    expect(provider.requests).toHaveLength(2);
    expect(provider.accepted).toHaveLength(1);
  });

  it('is UNAVAILABLE after its tries when the provider stays down; the caller retries later', async () => {
    const provider = await stub();
    provider.queue({ status: 503 }, { status: 502 }, { status: 500 });
    await expect(
      createNotifier({ sms: sms(provider.url, { attempts: 3 }) }).send(
        delivery({ preferredChannel: 'sms' }),
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'NOTIFIER_UNAVAILABLE' });
    expect(provider.requests).toHaveLength(3);
    expect(provider.accepted).toHaveLength(0);
  });

  it('refuses a number for good on a 400, at once, without the number in the error', async () => {
    const provider = await stub();
    provider.queue({ status: 400, body: { code: 21211, message: 'invalid To number' } });
    const error = await createNotifier({ sms: sms(provider.url) })
      .send(delivery({ preferredChannel: 'sms' }))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'ADDRESS_REJECTED',
      metadata: { deletionRequest: 'req-7', status: '400' },
    });
    expect(JSON.stringify(error)).not.toContain('+4915112345678');
    expect(String(error)).not.toContain('+4915112345678');
    expect(provider.requests).toHaveLength(1);
  });

  it('keeps trying when the provider refuses our credentials or the URL is wrong: our fault, not the address', async () => {
    const provider = await stub();
    provider.queue({ status: 401 }, { status: 404 });
    await expect(
      createNotifier({ sms: sms(provider.url, { attempts: 2 }) }).send(
        delivery({ preferredChannel: 'sms' }),
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', metadata: { status: '404' } });
    expect(provider.requests).toHaveLength(2);
  });

  it('falls back to e-mail when the SMS provider refuses the number for good', async () => {
    const provider = await stub();
    const mail = await sink();
    provider.queue({ status: 400 });
    const notifier = createNotifier({ email: smtp(mail.url), sms: sms(provider.url) });
    expect((await notifier.send(delivery({ preferredChannel: 'sms' }))).channel).toBe('email');
    expect(provider.requests).toHaveLength(1);
    expect(mail.messages).toHaveLength(1);
  });

  it('bounds a provider that never answers', async () => {
    const provider = await stub();
    provider.queue({ status: 0, hang: true }, { status: 0, hang: true });
    // Two attempts of 300 ms each, then UNAVAILABLE; the test's time limit catches one that hangs.
    await expect(
      createNotifier({ sms: sms(provider.url, { attempts: 2, timeoutMs: 300 }) }).send(
        delivery({ preferredChannel: 'sms' }),
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(provider.requests).toHaveLength(2);
  }, 10_000);
});

describe('the push channel (the push gateway webhook)', () => {
  it('posts a signed JSON message with the device registration, title and short text, and returns its id', async () => {
    const gateway = await stub();
    const notifier = createNotifier({
      push: createPushChannel({ url: `${gateway.url}/push`, secret }),
    });
    const receipt = await notifier.send(delivery({ preferredChannel: 'push' }));
    expect(receipt).toEqual({ channel: 'push', messageId: 'MSG000001' });
    const [request] = gateway.requests;
    expect(request?.path).toBe('/push');
    // Signed with the time: valid now, not for a replay ten minutes on, nor for another body.
    const signed = {
      header: request?.headers[PUSH_SIGNATURE_HEADER] as string | undefined,
      body: request?.body ?? '',
    };
    expect(signed.header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyPushSignature(secret, signed, { now: new Date() })).toBe(true);
    expect(verifyPushSignature(secret, signed, { now: new Date(Date.now() + 10 * 60_000) })).toBe(
      false,
    );
    expect(
      verifyPushSignature(
        secret,
        { ...signed, body: signed.body.replace('req-7', 'req-8') },
        {
          now: new Date(),
        },
      ),
    ).toBe(false);
    expect(
      verifyPushSignature('another-secret-0123456789abcdef!!', signed, { now: new Date() }),
    ).toBe(false);
    const at = new Date('2026-11-30T00:00:00Z');
    expect(signPushBody(secret, '{}', at)).toMatch(/^t=1795996800,v1=/);
    const sent = JSON.parse(request?.body ?? '') as { body: string };
    expect(sent.body).toContain('29. Dezember 2026');
    expect(sent).toEqual({
      to: 'device-token-1',
      title: 'Ihr Konto wird gelöscht',
      body: sent.body,
      kind: 'SCHEDULED',
      deletionRequest: 'req-7',
      key: 'req-7/SCHEDULED',
    });
    expect(request?.body).not.toContain('subject@mail.test');
    expect(request?.body).not.toContain('+4915112345678');
  });
});

describe('the push channel over HTTPS', () => {
  const pushOnce = async (url: string, extraCa?: string): Promise<unknown> => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/support/push-once.ts'],
      {
        env: {
          ...process.env,
          PUSH_URL: url,
          PUSH_SECRET: secret,
          ...(extraCa !== undefined && { NODE_EXTRA_CA_CERTS: extraCa }),
        },
      },
    );
    return JSON.parse(stdout);
  };

  it('posts to a gateway whose certificate a private CA signed, trusted through NODE_EXTRA_CA_CERTS, and to no other', async () => {
    using certificates = createTestCertificates();
    const gateway = await startProviderStub({ tls: certificates.server });
    cleanups.push(async () => {
      await gateway[Symbol.asyncDispose]();
    });
    expect(gateway.url).toMatch(/^https:/);

    expect(await pushOnce(`${gateway.url}/push`, certificates.ca.certFile)).toEqual({
      receipt: { channel: 'push', messageId: 'MSG000001' },
    });
    expect(gateway.accepted).toHaveLength(1);
    expect(
      verifyPushSignature(
        secret,
        {
          header: gateway.accepted[0]?.headers[PUSH_SIGNATURE_HEADER] as string | undefined,
          body: gateway.accepted[0]?.body ?? '',
        },
        { now: new Date() },
      ),
    ).toBe(true);
    // Without the CA the certificate is not trusted: nothing is posted, and the notice waits.
    expect(await pushOnce(`${gateway.url}/push`)).toEqual({
      error: { code: 'UNAVAILABLE', reason: expect.any(String) as string },
    });
    expect(gateway.requests).toHaveLength(1);
  });
});

describe('the channel a notice goes by', () => {
  it('is the preferred one when configured and the subject has an address there, else e-mail', async () => {
    const mail = await sink();
    const provider = await stub();
    const notifier = createNotifier({ email: smtp(mail.url), sms: sms(provider.url) });
    expect((await notifier.send(delivery({ preferredChannel: 'sms' }))).channel).toBe('sms');
    expect((await notifier.send(delivery({ preferredChannel: 'sms', phone: null }))).channel).toBe(
      'email',
    );
    expect((await notifier.send(delivery({ preferredChannel: 'push' }))).channel).toBe('email');
    expect((await notifier.send(delivery({ email: null }))).channel).toBe('sms');
    expect(mail.messages).toHaveLength(2);
    expect(provider.accepted).toHaveLength(1);
    await expect(
      notifier.send(delivery({ email: null, phone: null, pushToken: null })),
    ).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'NO_CONTACT_ADDRESS' });
  });
});
