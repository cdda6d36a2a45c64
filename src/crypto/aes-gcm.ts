import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a fresh random 96-bit IV per message, bound to `aad`:
 * iv ‖ tag ‖ ciphertext. A random IV keeps the chance of a repeat negligible
 * for far more messages than one key ever encrypts here (one subject's data).
 */
export const gcmEncrypt = (key: Uint8Array, aad: string, plaintext: Uint8Array): Buffer => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
};

/** The plaintext of `gcmEncrypt`'s output; throws when the key, the AAD or any byte differs. */
export const gcmDecrypt = (key: Uint8Array, aad: string, sealed: Uint8Array): Buffer => {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
  const bytes = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  }).setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
};

/** Keys for each purpose of one family, derived from a configured secret (HKDF-SHA256, the family as salt). */
export const keysFrom =
  (secret: string, family: string) =>
  (purpose: string, bytes = 32): Buffer =>
    Buffer.from(hkdfSync('sha256', secret, family, purpose, bytes));
