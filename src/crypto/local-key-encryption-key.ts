import type { KeyEncryptionKey } from '../app/ports/subject-keys.js';
import { DomainError } from '../domain/domain-error.js';
import type { SubjectId } from '../domain/ids.js';
import { gcmDecrypt, gcmEncrypt, keysFrom } from './aes-gcm.js';

/** Format of a wrapped key: `local-v1:<kek id>:<base64 iv ‖ tag ‖ wrapped key>`. */
const FORMAT = 'local-v1';
const DATA_KEY_BYTES = 32;

const aadOf = (subjectId: SubjectId): string => `account-deletion/data-key/v1\0${subjectId}`;

const unwrapFailed = (cause?: unknown): DomainError =>
  new DomainError({
    code: 'INTERNAL',
    reason: 'DATA_KEY_UNWRAP_FAILED',
    message: 'a data key cannot be unwrapped with the configured key-encryption key',
    cause,
  });

/**
 * The KEK from configuration: an AES-256-GCM key derived (HKDF-SHA256) from
 * the secret. Each wrapped key names the KEK's id (a derived fingerprint,
 * not the key), so a rotation can tell which KEK wrapped it, and a KMS
 * adapter can use a format of its own next to this one.
 */
export const createLocalKeyEncryptionKey = (secret: string): KeyEncryptionKey & { id: string } => {
  const derive = keysFrom(secret, 'account-deletion-kek');
  const key = derive('wrap');
  const id = derive('id', 8).toString('hex');
  return {
    id,
    wrap: (dataKey, subjectId) =>
      Promise.resolve(
        `${FORMAT}:${id}:${gcmEncrypt(key, aadOf(subjectId), dataKey).toString('base64')}`,
      ),
    unwrap: (wrapped, subjectId) => {
      const [format, kekId, body] = wrapped.split(':');
      if (format !== FORMAT || kekId !== id || body === undefined)
        return Promise.reject(unwrapFailed());
      try {
        const dataKey = gcmDecrypt(key, aadOf(subjectId), Buffer.from(body, 'base64'));
        if (dataKey.length !== DATA_KEY_BYTES) return Promise.reject(unwrapFailed());
        return Promise.resolve(new Uint8Array(dataKey));
      } catch (error) {
        return Promise.reject(unwrapFailed(error));
      }
    },
  };
};
