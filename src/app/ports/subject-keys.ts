import type { SubjectId } from '../../domain/ids.js';

/**
 * The key-encryption key (KEK) that wraps subjects' data keys: a local key
 * from configuration now, a KMS key later. A wrapped key is bound to its
 * subject (a key moved to another subject does not unwrap).
 */
export interface KeyEncryptionKey {
  wrap(dataKey: Uint8Array, subjectId: SubjectId): Promise<string>;
  /** Throws INTERNAL `DATA_KEY_UNWRAP_FAILED` when it was not wrapped by this KEK for this subject, or was altered. */
  unwrap(wrapped: string, subjectId: SubjectId): Promise<Uint8Array>;
}

/**
 * Each subject's data key (AES-256), kept only wrapped by the KEK, apart from
 * the data it encrypts. Destroying it is crypto-shredding: every copy of what
 * it encrypted, backups included, becomes unreadable. Database failures surface as UNAVAILABLE.
 */
export interface SubjectKeyStore {
  /** The subject's key, made on first use (replicas racing get the same one). */
  getOrCreate(subjectId: SubjectId): Promise<Uint8Array>;
  /** The subject's key; null when there is none (never made, or destroyed). */
  find(subjectId: SubjectId): Promise<Uint8Array | null>;
  /** Destroys the subject's key; destroying a key that is gone is fine. */
  destroy(subjectId: SubjectId): Promise<void>;
}

/**
 * Encrypts a subject's personal data with their data key (AES-256-GCM), each
 * value bound to the subject, to `context` (the request it belongs to) and
 * to its field name.
 */
export interface SubjectCipher {
  /** Each value encrypted under the subject's key, made on first use. */
  seal(
    subjectId: SubjectId,
    context: string,
    values: Readonly<Record<string, string>>,
  ): Promise<Record<string, string>>;
  /**
   * The plaintexts, or null when the subject's key is gone (shredded).
   * Throws INTERNAL `PERSONAL_DATA_UNREADABLE` when the key exists but does
   * not open a value (altered, or moved to another subject, request or field).
   */
  open(
    subjectId: SubjectId,
    context: string,
    sealed: Readonly<Record<string, string>>,
  ): Promise<Record<string, string> | null>;
}
