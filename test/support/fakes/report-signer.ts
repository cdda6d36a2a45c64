import { createHash } from 'node:crypto';
import type { ReportSigner } from '../../../src/app/ports/report-signer.js';

/** A signer whose "signature" is a digest any test can recompute; the digest is the real SHA-256. */
export interface FakeReportSigner extends ReportSigner {
  readonly keyId: string;
  /** Whether `signature` is what this signer gives `payload`. */
  verify(payload: string, signature: string): boolean;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A fake report signer under `keyId`. */
export const fakeReportSigner = (keyId = 'fake-report-key'): FakeReportSigner => {
  const signatureOf = (payload: string): string =>
    Buffer.from(sha256(`${keyId}\0${payload}`), 'hex').toString('base64');
  return {
    keyId,
    sign: (payload) => ({ signature: signatureOf(payload), keyId }),
    digest: sha256,
    verify: (payload, signature) => signatureOf(payload) === signature,
  };
};
