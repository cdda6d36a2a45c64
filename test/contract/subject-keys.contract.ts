import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  KeyEncryptionKey,
  SubjectCipher,
  SubjectKeyStore,
} from '../../src/app/ports/subject-keys.js';
import { DomainError } from '../../src/domain/domain-error.js';
import type { SubjectId } from '../../src/domain/ids.js';
import { aSubjectId } from '../fixtures/deletion-request-builder.js';

const failure = (call: () => Promise<unknown>): Promise<unknown> =>
  call().then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );

/** What the key store contract runs against: a store, and another replica's over the same keys. */
export interface SubjectKeyStoreSubject {
  readonly keys: SubjectKeyStore;
  readonly replica: () => SubjectKeyStore;
}

/** The contract of SubjectKeyStore: one key per subject, made once, gone for good once destroyed. */
export const describeSubjectKeyStoreContract = (
  name: string,
  makeSubject: () => Promise<SubjectKeyStoreSubject>,
): void => {
  describe(`SubjectKeyStore contract: ${name}`, () => {
    let keys: SubjectKeyStore;
    let replica: SubjectKeyStoreSubject['replica'];
    beforeEach(async () => {
      ({ keys, replica } = await makeSubject());
    });

    it('makes a subject’s 256-bit key on first use and answers the same one after', async () => {
      const subjectId = aSubjectId();
      expect(await keys.find(subjectId)).toBeNull();
      const key = await keys.getOrCreate(subjectId);
      expect(key).toHaveLength(32);
      expect(await keys.getOrCreate(subjectId)).toEqual(key);
      expect(await keys.find(subjectId)).toEqual(key);
      expect(await replica().find(subjectId)).toEqual(key);
    });

    it('gives each subject a key of its own', async () => {
      const [one, two] = [aSubjectId(), aSubjectId()];
      expect(await keys.getOrCreate(one)).not.toEqual(await keys.getOrCreate(two));
    });

    it('gives replicas racing to make a subject’s key the same one', async () => {
      const subjectId = aSubjectId();
      const stores = [keys, replica(), replica()];
      const made = await Promise.all(
        Array.from({ length: 9 }, (_, n) => stores[n % stores.length]!.getOrCreate(subjectId)),
      );
      for (const key of made) expect(key).toEqual(made[0]);
      expect(await keys.find(subjectId)).toEqual(made[0]);
    });

    it('destroys a key for good: not found, a later one is another, destroying again is fine', async () => {
      const subjectId = aSubjectId();
      const bystander = aSubjectId();
      const key = await keys.getOrCreate(subjectId);
      const kept = await keys.getOrCreate(bystander);
      await keys.destroy(subjectId);
      expect(await keys.find(subjectId)).toBeNull();
      await keys.destroy(subjectId);
      await keys.destroy(aSubjectId());
      expect(await keys.find(bystander)).toEqual(kept);
      expect(await keys.getOrCreate(subjectId)).not.toEqual(key);
    });
  });
};

/** What the cipher contract runs against: a cipher, and the key store it seals with. */
export interface SubjectCipherSubject {
  readonly cipher: SubjectCipher;
  readonly keys: SubjectKeyStore;
}

const unreadable = { code: 'INTERNAL', reason: 'PERSONAL_DATA_UNREADABLE' };

/** The contract of SubjectCipher: values bound to subject, context and field, unreadable once the key is gone. */
export const describeSubjectCipherContract = (
  name: string,
  makeSubject: () => Promise<SubjectCipherSubject>,
): void => {
  describe(`SubjectCipher contract: ${name}`, () => {
    let cipher: SubjectCipher;
    let keys: SubjectKeyStore;
    beforeEach(async () => {
      ({ cipher, keys } = await makeSubject());
    });
    const values = { email: 'subject@mail.test', reason: 'no longer using the service' };

    it('seals each value under the subject’s key, showing none, and opens them back', async () => {
      const subjectId = aSubjectId();
      const sealed = await cipher.seal(subjectId, 'request-1', values);
      expect(Object.keys(sealed).sort()).toEqual(['email', 'reason']);
      expect(JSON.stringify(sealed)).not.toContain('subject@mail.test');
      expect(await keys.find(subjectId)).not.toBeNull();
      expect(await cipher.open(subjectId, 'request-1', sealed)).toEqual(values);
    });

    it('opens nothing (null) once the subject’s key is destroyed', async () => {
      const subjectId = aSubjectId();
      const sealed = await cipher.seal(subjectId, 'request-1', values);
      await keys.destroy(subjectId);
      expect(await cipher.open(subjectId, 'request-1', sealed)).toBeNull();
    });

    it('refuses a value moved to another field, request or subject, or altered', async () => {
      const subjectId = aSubjectId();
      const other = aSubjectId();
      await keys.getOrCreate(other);
      const sealed = await cipher.seal(subjectId, 'request-1', values);
      const moves: [SubjectId, string, Record<string, string>][] = [
        [subjectId, 'request-1', { reason: sealed.email! }],
        [subjectId, 'request-2', sealed],
        [other, 'request-1', sealed],
        [subjectId, 'request-1', { email: `${sealed.email!.slice(0, -4)}AAAA` }],
      ];
      for (const [subject, context, moved] of moves) {
        const error = await failure(() => cipher.open(subject, context, moved));
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject(unreadable);
      }
    });

    it('refuses what was sealed under a destroyed key once the subject has a new one', async () => {
      const subjectId = aSubjectId();
      const sealed = await cipher.seal(subjectId, 'request-1', values);
      await keys.destroy(subjectId);
      await keys.getOrCreate(subjectId);
      expect(await failure(() => cipher.open(subjectId, 'request-1', sealed))).toMatchObject(
        unreadable,
      );
    });
  });
};

const unwrapFailed = { code: 'INTERNAL', reason: 'DATA_KEY_UNWRAP_FAILED' };

/** The contract of KeyEncryptionKey: a wrapped key unwraps only with its KEK, for its subject, unaltered. */
export const describeKeyEncryptionKeyContract = (
  name: string,
  makeSubject: (secret: string) => KeyEncryptionKey,
): void => {
  describe(`KeyEncryptionKey contract: ${name}`, () => {
    const kek = makeSubject('first-key-encryption-secret-0123456789');
    const dataKey = new Uint8Array(randomBytes(32));

    it('unwraps what it wrapped for the same subject', async () => {
      const subjectId = aSubjectId();
      const wrapped = await kek.wrap(dataKey, subjectId);
      expect(wrapped).not.toContain(Buffer.from(dataKey).toString('base64'));
      expect(await kek.unwrap(wrapped, subjectId)).toEqual(dataKey);
    });

    it('refuses a key moved to another subject, altered, or wrapped by another KEK', async () => {
      const subjectId = aSubjectId();
      const wrapped = await kek.wrap(dataKey, subjectId);
      const byAnother = await makeSubject('second-key-encryption-secret-987654321').wrap(
        dataKey,
        subjectId,
      );
      const refused: [string, SubjectId][] = [
        [wrapped, aSubjectId()],
        [`${wrapped.slice(0, -4)}AAAA`, subjectId],
        ['not-a-wrapped-key', subjectId],
        [byAnother, subjectId],
      ];
      for (const [candidate, subject] of refused) {
        const error = await failure(() => kek.unwrap(candidate, subject));
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject(unwrapFailed);
      }
    });
  });
};
