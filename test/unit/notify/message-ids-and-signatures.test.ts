import { describe, expect, it } from 'vitest';
import { signPushBody, verifyPushSignature } from '../../../src/notify/push-channel.js';
import { messageIdOf } from '../../../src/notify/smtp-channel.js';

describe('the Message-ID of an event’s mail', () => {
  it('is the same for the same event, on the sender’s domain when it is a valid one', () => {
    const key = 'req-1/RECEIPT@0';
    const id = messageIdOf(key, 'Account deletion <no-reply@example.internal>');
    expect(id).toMatch(/^<[0-9a-f]{40}@example\.internal>$/);
    expect(messageIdOf(key, 'no-reply@example.internal')).toBe(id);
    expect(messageIdOf('req-1/SCHEDULED@1', 'no-reply@example.internal')).not.toBe(id);
    for (const from of ['nobody', 'a@x..y', 'a@.x', 'a@example.com.', 'a@-x.com'])
      expect(messageIdOf(key, from)).toMatch(/@account-deletion\.invalid>$/);
  });
});

describe('the push signature', () => {
  const secret = 'push-webhook-secret-0123456789abcdef';
  const at = new Date('2026-11-30T00:00:00Z');
  const signed = { header: signPushBody(secret, '{"a":1}', at), body: '{"a":1}' };

  it('holds within the tolerance either way, and for nothing else', () => {
    expect(verifyPushSignature(secret, signed, { now: at })).toBe(true);
    expect(verifyPushSignature(secret, signed, { now: new Date(at.getTime() - 299_000) })).toBe(
      true,
    );
    expect(verifyPushSignature(secret, signed, { now: new Date(at.getTime() + 301_000) })).toBe(
      false,
    );
    expect(verifyPushSignature(secret, { ...signed, header: undefined }, { now: at })).toBe(false);
    expect(
      verifyPushSignature(secret, { ...signed, header: `${signed.header}0` }, { now: at }),
    ).toBe(false);
    expect(verifyPushSignature(secret, signed, { now: at, toleranceSeconds: Number.NaN })).toBe(
      false,
    );
  });
});
