import type { DeletionRequestId } from '../../domain/ids.js';

/** One-time codes: generated from a CSPRNG, kept only as a keyed hash bound to one request. */
export interface OneTimeCodes {
  generate(): string;
  hash(deletionRequestId: DeletionRequestId, code: string): string;
  /** Constant-time comparison of the code's keyed hash with the stored one. */
  matches(deletionRequestId: DeletionRequestId, code: string, storedHash: string): boolean;
  /** A digest of a request's parameters (idempotency fingerprint). */
  fingerprint(parts: readonly string[]): string;
}
