import { createHash } from 'node:crypto';
import type { OneTimeCodes } from '../../../src/app/ports/one-time-codes.js';

/** One-time codes a test can predict: generated in order, each with the configured digits. */
export interface FakeOneTimeCodes extends OneTimeCodes {
  /** Every code generated so far, oldest first. */
  readonly generated: readonly string[];
}

const digest = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * Fake one-time codes of `digits` digits, counting up from `first`. The hash
 * is a digest of the request id and the code (unkeyed: a test can recompute
 * it), so it matches only that code of that request.
 */
export const fakeOneTimeCodes = (
  options: { digits?: number; first?: number } = {},
): FakeOneTimeCodes => {
  const digits = options.digits ?? 6;
  const generated: string[] = [];
  const hash = (deletionRequestId: string, code: string): string =>
    digest(`otp\0${deletionRequestId}\0${code}`);
  return {
    generated,
    generate: () => {
      const next = ((options.first ?? 123_456) + generated.length) % 10 ** digits;
      const code = String(next).padStart(digits, '0');
      generated.push(code);
      return code;
    },
    hash,
    matches: (deletionRequestId, code, storedHash) => hash(deletionRequestId, code) === storedHash,
    fingerprint: (parts) => digest(`fp\0${parts.join('\0')}`),
  };
};
