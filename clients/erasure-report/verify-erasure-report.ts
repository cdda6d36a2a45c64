import { createHash, createPublicKey, verify } from 'node:crypto';

/** A signed erasure report as GetErasureReport returns it. */
export interface SignedReport {
  readonly payload: string;
  readonly signature: string;
  readonly keyId?: string;
}

/** One linked service's answer, as the report states it. */
export interface ReportedParticipant {
  readonly name: string;
  readonly outcome: 'ERASED' | 'NOTHING_FOUND' | 'RETAINED' | 'MANUAL';
  readonly records: number;
  readonly categories: readonly string[];
  readonly legalBasis: string | null;
  readonly retainedUntil: string | null;
  readonly justification: string | null;
  readonly answeredAt: string;
}

/** The verified content of an erasure report. */
export interface ErasureReport {
  readonly version: 1;
  readonly deletionRequest: string;
  readonly subjectId: string;
  readonly jurisdiction: string;
  readonly requestedAt: string;
  readonly legalDeadline: string;
  readonly completedAt: string;
  readonly local: {
    readonly accounts: number;
    readonly sessions: number;
    readonly apiTokens: number;
  };
  readonly participants: readonly ReportedParticipant[];
}

/** The report's signature does not verify with the given key (or is for another key). */
export class ErasureReportInvalid extends Error {
  override readonly name = 'ErasureReportInvalid';
}

/**
 * Verifies a signed erasure report with the service's Ed25519 public key
 * (SPKI PEM, from `GET /erasure-report-key` or your key inventory) and returns
 * its content. Throws ErasureReportInvalid when the signature does not match the
 * exact payload bytes, or the report names another key.
 */
export const verifyErasureReport = (report: SignedReport, publicKeyPem: string): ErasureReport => {
  const key = createPublicKey(publicKeyPem);
  const keyId = createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
  if (report.keyId !== undefined && report.keyId !== keyId) {
    throw new ErasureReportInvalid('the report was signed with another key');
  }
  const valid = verify(
    null,
    Buffer.from(report.payload, 'utf8'),
    key,
    Buffer.from(report.signature, 'base64'),
  );
  if (!valid) throw new ErasureReportInvalid('the signature does not match the report');
  return JSON.parse(report.payload) as ErasureReport;
};
