import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  keyValidityProblem,
  REPORT_VERSIONS,
  type PublishedReportKey,
  type ReportKeySet,
} from './key-set.js';

export { keyValidityProblem, REPORT_VERSIONS, type PublishedReportKey, type ReportKeySet };

/** A signed erasure report as GetErasureReport returns it. */
export interface SignedReport {
  readonly payload: string;
  readonly signature: string;
  readonly keyId?: string;
}

/** What a linked service holds as registered (version 2 reports). */
export interface RegisteredHoldings {
  /** The team that owns the service. */
  readonly team: string | null;
  /** The data categories the deletion covers there; empty: everything it holds. */
  readonly categories: readonly string[];
  /** The legal basis it cites when it keeps something. */
  readonly legalBasis: string | null;
}

/** One linked service's answer, as the report states it. */
export interface ReportedParticipant {
  readonly name: string;
  readonly outcome: 'ERASED' | 'NOTHING_FOUND' | 'RETAINED' | 'MANUAL';
  /** Records erased (for RETAINED: those erased besides what was kept). */
  readonly records: number;
  /** ERASED: the categories erased; RETAINED: the categories kept. */
  readonly categories: readonly string[];
  /** Why data was kept (RETAINED). From version 2: the answer's basis, else the registered one. */
  readonly legalBasis: string | null;
  readonly retainedUntil: string | null;
  readonly justification: string | null;
  readonly answeredAt: string;
  /** Version 2: where `legalBasis` comes from (absent in version 1 reports). */
  readonly legalBasisSource?: 'ANSWER' | 'REGISTRATION' | null;
  /** Version 2: what the service holds as registered; null when it was no longer registered. */
  readonly registered?: RegisteredHoldings | null;
}

/** The verified content of an erasure report (version 1, or 2 with `registered` per service). */
export interface ErasureReport {
  readonly version: (typeof REPORT_VERSIONS)[number];
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
 * its content (version 1 or 2). Throws ErasureReportInvalid when the signature
 * does not match the exact payload bytes, the report names another key, or it
 * is of a version this verifier does not read.
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
  const content = JSON.parse(report.payload) as ErasureReport;
  if (!REPORT_VERSIONS.includes(content.version))
    throw new ErasureReportInvalid('the report is of a version this verifier does not read');
  return content;
};

/**
 * Verifies a signed erasure report against a service's key set (from
 * `GET /erasure-report-keys`, saved or fetched): the key the report names,
 * and a completion time within that key's validity, so a report signed
 * before a key rotation still verifies, and a key retired after a leak does
 * not vouch for a report dated later. Works offline once the set is saved.
 * Throws ErasureReportInvalid otherwise.
 */
export const verifyErasureReportWithKeySet = (
  report: SignedReport,
  keySet: ReportKeySet,
): ErasureReport => {
  const key = keySet.keys.find((candidate) => candidate.keyId === report.keyId);
  if (key === undefined)
    throw new ErasureReportInvalid('the report names a key the key set does not have');
  const content = verifyErasureReport(report, key.publicKey);
  const problem = keyValidityProblem(key, content.completedAt);
  if (problem !== null) throw new ErasureReportInvalid(problem);
  return content;
};
