import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  KeyEncryptionKey,
  SubjectCipher,
  SubjectKeyStore,
} from '../../../src/app/ports/subject-keys.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { SubjectId } from '../../../src/domain/ids.js';
import { outageSwitch, type Outage } from './store-away.js';

const DATA_KEY_BYTES = 32;

/** Subjects' data keys in memory. */
export interface FakeSubjectKeyStore extends SubjectKeyStore, Outage {
  /** The subjects that have a key now. */
  subjects(): readonly SubjectId[];
}

/** A fake key store: a random 32-byte key per subject, made on first use, gone once destroyed. */
export const fakeSubjectKeyStore = (): FakeSubjectKeyStore => {
  const keys = new Map<SubjectId, Uint8Array>();
  const outage = outageSwitch();
  return {
    setDown: outage.setDown,
    subjects: () => [...keys.keys()],
    getOrCreate: (subjectId) =>
      outage.guard(() => {
        const key = keys.get(subjectId) ?? new Uint8Array(randomBytes(DATA_KEY_BYTES));
        keys.set(subjectId, key);
        return new Uint8Array(key);
      }),
    find: (subjectId) =>
      outage.guard(() => {
        const key = keys.get(subjectId);
        return key === undefined ? null : new Uint8Array(key);
      }),
    destroy: (subjectId) =>
      outage.guard(() => {
        keys.delete(subjectId);
      }),
  };
};

const unwrapFailed = (): DomainError =>
  new DomainError({
    code: 'INTERNAL',
    reason: 'DATA_KEY_UNWRAP_FAILED',
    message: 'a data key cannot be unwrapped with the configured key-encryption key',
  });

/**
 * A fake KEK: the wrapped key is the key itself with a MAC over it and the
 * subject (under `secret`), so a key moved to another subject, altered, or
 * wrapped by another fake KEK does not unwrap.
 */
export const fakeKeyEncryptionKey = (secret = 'fake-kek'): KeyEncryptionKey => {
  const mac = (dataKey: Uint8Array, subjectId: SubjectId): Buffer =>
    createHmac('sha256', secret).update(subjectId).update(dataKey).digest();
  return {
    wrap: (dataKey, subjectId) =>
      Promise.resolve(
        `fake-kek:${Buffer.from(dataKey).toString('base64url')}:${mac(dataKey, subjectId).toString('base64url')}`,
      ),
    unwrap: (wrapped, subjectId) => {
      const [format, key, tag] = wrapped.split(':');
      if (format !== 'fake-kek' || key === undefined || tag === undefined)
        return Promise.reject(unwrapFailed());
      const dataKey = new Uint8Array(Buffer.from(key, 'base64url'));
      const expected = mac(dataKey, subjectId);
      const given = Buffer.from(tag, 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected)
        ? Promise.resolve(dataKey)
        : Promise.reject(unwrapFailed());
    },
  };
};

const unreadable = (): DomainError =>
  new DomainError({
    code: 'INTERNAL',
    reason: 'PERSONAL_DATA_UNREADABLE',
    message: 'stored personal data does not open with its subject key',
  });

const PREFIX = 'fake-sealed:';

/** What a fake sealed value binds: the key's fingerprint, the subject, the context, the field, the value. */
type Bound = [string, string, string, string, string];

const fingerprintOf = (key: Uint8Array): string =>
  createHash('sha256').update(key).digest('base64url');

/**
 * A fake cipher over a key store: a sealed value names its key (by
 * fingerprint), subject, context and field, so it opens only with that key
 * for that place (else INTERNAL `PERSONAL_DATA_UNREADABLE`), and not at all
 * (null) once the subject's key is gone. Not encryption: a test fake.
 */
export const fakeSubjectCipher = (keys: SubjectKeyStore): SubjectCipher => ({
  seal: async (subjectId, context, values) => {
    const fingerprint = fingerprintOf(await keys.getOrCreate(subjectId));
    return Object.fromEntries(
      Object.entries(values).map(([field, value]) => {
        const bound: Bound = [fingerprint, subjectId, context, field, value];
        return [field, `${PREFIX}${Buffer.from(JSON.stringify(bound)).toString('base64url')}`];
      }),
    );
  },
  open: async (subjectId, context, sealed) => {
    const key = await keys.find(subjectId);
    if (key === null) return null;
    const expected = [fingerprintOf(key), subjectId, context];
    return Object.fromEntries(
      Object.entries(sealed).map(([field, value]) => {
        if (!value.startsWith(PREFIX)) throw unreadable();
        let bound: unknown;
        try {
          bound = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString());
        } catch {
          throw unreadable();
        }
        const place = [...expected, field];
        if (
          !Array.isArray(bound) ||
          bound.length !== 5 ||
          !place.every((part, index) => bound[index] === part) ||
          typeof bound[4] !== 'string'
        )
          throw unreadable();
        return [field, bound[4]];
      }),
    );
  },
});
