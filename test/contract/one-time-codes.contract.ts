import { describe, expect, it } from 'vitest';
import type { OneTimeCodes } from '../../src/app/ports/one-time-codes.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { aRequestId } from '../fixtures/deletion-request-builder.js';

/** The contract of OneTimeCodes: codes of the configured digits, kept as a hash bound to one request. */
export const describeOneTimeCodesContract = (
  name: string,
  makeSubject: (digits: number) => OneTimeCodes,
): void => {
  describe(`OneTimeCodes contract: ${name}`, () => {
    it.each([6, 8])('generates codes of %i digits', (digits) => {
      const codes = makeSubject(digits);
      const generated = Array.from({ length: 20 }, () => codes.generate());
      for (const code of generated) expect(code).toMatch(new RegExp(`^[0-9]{${String(digits)}}$`));
      expect(new Set(generated).size).toBeGreaterThan(1);
    });

    it('matches a code only against its own hash of the same request', () => {
      const codes = makeSubject(6);
      const request = aRequestId();
      const code = codes.generate();
      const stored = codes.hash(request, code);
      const other = code === '000000' ? '000001' : '000000';
      expect(codes.matches(request, code, stored)).toBe(true);
      expect(codes.matches(request, other, stored)).toBe(false);
      expect(codes.matches(aRequestId(), code, stored)).toBe(false);
      expect(codes.matches(request, code, codes.hash(aRequestId(), code))).toBe(false);
      expect(codes.matches(request, code, 'not-a-hash')).toBe(false);
      expect(codes.matches(request, code, '')).toBe(false);
    });

    it('hashes a code the same way every time, never showing it', () => {
      const codes = makeSubject(6);
      const request = 'request-with-a-known-code' as DeletionRequestId;
      const stored = codes.hash(request, '493817');
      expect(codes.hash(request, '493817')).toBe(stored);
      expect(codes.hash(request, '493818')).not.toBe(stored);
      expect(stored).not.toContain('493817');
    });

    it('fingerprints the parameters of a call: the same parts the same, other parts or order not', () => {
      const codes = makeSubject(6);
      const fingerprint = codes.fingerprint(['subject-1', 'reason']);
      expect(codes.fingerprint(['subject-1', 'reason'])).toBe(fingerprint);
      expect(codes.fingerprint(['subject-1', 'other reason'])).not.toBe(fingerprint);
      expect(codes.fingerprint(['reason', 'subject-1'])).not.toBe(fingerprint);
      expect(codes.fingerprint(['subject-1reason'])).not.toBe(fingerprint);
      expect(codes.fingerprint([])).not.toBe(fingerprint);
    });
  });
};
