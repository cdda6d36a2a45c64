import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReportSigner } from '../../src/app/ports/report-signer.js';

/** The contract of ReportSigner: one key signs every report; the digest is the payload's SHA-256. */
export const describeReportSignerContract = (
  name: string,
  makeSubject: () => ReportSigner,
): void => {
  describe(`ReportSigner contract: ${name}`, () => {
    const payload = JSON.stringify({ deletionRequest: 'request-1', erased: ['billing'] });

    it('digests a payload as its SHA-256 in hex, what names a report once it is gone', () => {
      const signer = makeSubject();
      expect(signer.digest(payload)).toBe(createHash('sha256').update(payload).digest('hex'));
      expect(signer.digest(`${payload} `)).not.toBe(signer.digest(payload));
    });

    it('signs every payload under one key id, each with a signature of its own', () => {
      const signer = makeSubject();
      const first = signer.sign(payload);
      const second = signer.sign(`${payload} `);
      expect(first.keyId).not.toBe('');
      expect(second.keyId).toBe(first.keyId);
      expect(first.signature).not.toBe('');
      expect(second.signature).not.toBe(first.signature);
      expect(first.signature).not.toContain('request-1');
    });
  });
};
