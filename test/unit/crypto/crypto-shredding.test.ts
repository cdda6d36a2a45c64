import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyEncryptionKey, SubjectKeyStore } from '../../../src/app/ports/subject-keys.js';
import { createLocalKeyEncryptionKey } from '../../../src/crypto/local-key-encryption-key.js';
import { createSubjectCipher } from '../../../src/crypto/subject-cipher.js';
import type { SubjectId } from '../../../src/domain/ids.js';

const KEK_SECRET = 'unit-test-data-kek-0123456789abcdef';
const alice = 'subject-alice' as SubjectId;
const bob = 'subject-bob' as SubjectId;

/** Wrapped keys in a map, unwrapped with `kek` on every read (what the Mongo store does). */
const keyStore = (kek: KeyEncryptionKey) => {
  const wrapped = new Map<string, string>();
  const store: SubjectKeyStore = {
    getOrCreate: async (subjectId) => {
      if (!wrapped.has(subjectId))
        wrapped.set(subjectId, await kek.wrap(new Uint8Array(randomBytes(32)), subjectId));
      return kek.unwrap(wrapped.get(subjectId) ?? '', subjectId);
    },
    find: async (subjectId) => {
      const found = wrapped.get(subjectId);
      return found === undefined ? null : kek.unwrap(found, subjectId);
    },
    destroy: (subjectId) => {
      wrapped.delete(subjectId);
      return Promise.resolve();
    },
  };
  return { store, wrapped };
};

/** `text` with one byte of its base64 body flipped. */
const tampered = (sealed: string): string => {
  const [prefix, body] = [sealed.slice(0, 4), Buffer.from(sealed.slice(4), 'base64')];
  body[body.length - 1] = (body.at(-1) ?? 0) ^ 1;
  return prefix + body.toString('base64');
};

describe('subject cipher', () => {
  const { store } = keyStore(createLocalKeyEncryptionKey(KEK_SECRET));
  const cipher = createSubjectCipher(store);

  it('opens what it sealed, and never seals the same value the same way twice', async () => {
    const first = await cipher.seal(alice, 'request-1', { contact: 'alice@mail.test' });
    const second = await cipher.seal(alice, 'request-1', { contact: 'alice@mail.test' });
    expect(first.contact).not.toEqual(second.contact);
    expect(first.contact).not.toContain('alice');
    expect(await cipher.open(alice, 'request-1', first)).toEqual({ contact: 'alice@mail.test' });
  });

  it('refuses a value with one byte changed', async () => {
    const sealed = await cipher.seal(alice, 'request-1', { reason: 'I am Alice' });
    await expect(
      cipher.open(alice, 'request-1', { reason: tampered(sealed.reason ?? '') }),
    ).rejects.toMatchObject({ code: 'INTERNAL', reason: 'PERSONAL_DATA_UNREADABLE' });
  });

  it.each([
    ['another request', alice, 'request-2', 'reason'],
    ['another field', alice, 'request-1', 'reviewNote'],
    ['another subject', bob, 'request-1', 'reason'],
  ])('refuses a value moved to %s (the AAD differs)', async (_, subject, context, field) => {
    await cipher.seal(bob, 'request-0', { reason: 'make bob a key' });
    const sealed = await cipher.seal(alice, 'request-1', { reason: 'I am Alice' });
    await expect(
      cipher.open(subject, context, { [field]: sealed.reason ?? '' }),
    ).rejects.toMatchObject({ reason: 'PERSONAL_DATA_UNREADABLE' });
  });

  it('answers null, not an error, once the subject key is destroyed, and leaves other subjects readable', async () => {
    const forAlice = await cipher.seal(alice, 'request-1', { contact: 'alice@mail.test' });
    const forBob = await cipher.seal(bob, 'request-9', { contact: 'bob@mail.test' });
    await store.destroy(alice);
    await store.destroy(alice);

    expect(await cipher.open(alice, 'request-1', forAlice)).toBeNull();
    expect(await cipher.open(bob, 'request-9', forBob)).toEqual({ contact: 'bob@mail.test' });
  });
});

describe('local key-encryption key', () => {
  const kek = createLocalKeyEncryptionKey(KEK_SECRET);
  const dataKey = new Uint8Array(randomBytes(32));

  it('wraps a data key so that only it unwraps it, for the same subject', async () => {
    const wrapped = await kek.wrap(dataKey, alice);
    expect(wrapped).toMatch(/^local-v1:[0-9a-f]{16}:/);
    expect(wrapped).not.toContain(Buffer.from(dataKey).toString('base64'));
    expect(await kek.unwrap(wrapped, alice)).toEqual(dataKey);
  });

  it('refuses to unwrap with another KEK, even one claiming the same id', async () => {
    const wrapped = await kek.wrap(dataKey, alice);
    const other = createLocalKeyEncryptionKey('another-data-kek-0123456789abcdef0');
    await expect(other.unwrap(wrapped, alice)).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'DATA_KEY_UNWRAP_FAILED',
    });
    const forged = wrapped.replace(kek.id, other.id);
    await expect(other.unwrap(forged, alice)).rejects.toMatchObject({
      reason: 'DATA_KEY_UNWRAP_FAILED',
    });
  });

  it('refuses a wrapped key moved to another subject or altered', async () => {
    const wrapped = await kek.wrap(dataKey, alice);
    await expect(kek.unwrap(wrapped, bob)).rejects.toMatchObject({
      reason: 'DATA_KEY_UNWRAP_FAILED',
    });
    const body = Buffer.from(wrapped.split(':')[2] ?? '', 'base64');
    body[20] = (body[20] ?? 0) ^ 1;
    await expect(
      kek.unwrap(`local-v1:${kek.id}:${body.toString('base64')}`, alice),
    ).rejects.toMatchObject({ reason: 'DATA_KEY_UNWRAP_FAILED' });
  });

  it('makes the data of a subject unreadable under a store that was wrapped by another KEK', async () => {
    const { store, wrapped } = keyStore(kek);
    const sealed = await createSubjectCipher(store).seal(alice, 'request-1', { reason: 'x' });
    const stolen = keyStore(createLocalKeyEncryptionKey('attacker-guess-kek-0123456789abcdef'));
    stolen.wrapped.set(alice, wrapped.get(alice) ?? '');
    await expect(
      createSubjectCipher(stolen.store).open(alice, 'request-1', sealed),
    ).rejects.toMatchObject({ reason: 'DATA_KEY_UNWRAP_FAILED' });
  });
});
