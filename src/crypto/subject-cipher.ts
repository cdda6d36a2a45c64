import type { SubjectCipher, SubjectKeyStore } from '../app/ports/subject-keys.js';
import { DomainError } from '../domain/domain-error.js';
import type { SubjectId } from '../domain/ids.js';
import { gcmDecrypt, gcmEncrypt } from './aes-gcm.js';

/**
 * Format of a sealed value: `pd1:<base64 iv ‖ tag ‖ ciphertext>`. A new
 * format (another algorithm, a key generation) gets a new prefix; values of
 * the old one stay readable.
 */
const FORMAT = 'pd1:';

/** What the tag authenticates besides the ciphertext: the subject, the request and the field. */
const aadOf = (subjectId: SubjectId, context: string, field: string): string =>
  `account-deletion/personal-data/v1\0${subjectId}\0${context}\0${field}`;

const unreadable = (cause?: unknown): DomainError =>
  new DomainError({
    code: 'INTERNAL',
    reason: 'PERSONAL_DATA_UNREADABLE',
    message: 'stored personal data does not open with its subject key',
    cause,
  });

const openOne = (key: Uint8Array, aad: string, sealed: string): string => {
  if (!sealed.startsWith(FORMAT)) throw unreadable();
  try {
    return gcmDecrypt(key, aad, Buffer.from(sealed.slice(FORMAT.length), 'base64')).toString(
      'utf8',
    );
  } catch (error) {
    throw unreadable(error);
  }
};

/** Personal data encrypted with its subject's data key (see SubjectCipher); one key lookup per call. */
export const createSubjectCipher = (keys: SubjectKeyStore): SubjectCipher => ({
  seal: async (subjectId, context, values) => {
    const key = await keys.getOrCreate(subjectId);
    return Object.fromEntries(
      Object.entries(values).map(([field, value]) => {
        const sealed = gcmEncrypt(key, aadOf(subjectId, context, field), Buffer.from(value));
        return [field, `${FORMAT}${sealed.toString('base64')}`];
      }),
    );
  },
  open: async (subjectId, context, sealed) => {
    const key = await keys.find(subjectId);
    if (key === null) return null;
    return Object.fromEntries(
      Object.entries(sealed).map(([field, value]) => [
        field,
        openOne(key, aadOf(subjectId, context, field), value),
      ]),
    );
  },
});
