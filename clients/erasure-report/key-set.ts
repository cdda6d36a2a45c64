// The published key set and the rules of a key's validity, with no crypto of its own: what a
// verifier in a browser (the console, with WebCrypto) shares with this package's verifier.

/** One key of a service's published key set (`GET /erasure-report-keys`). */
export interface PublishedReportKey {
  readonly keyId: string;
  readonly algorithm: string;
  /** SPKI PEM. */
  readonly publicKey: string;
  /** When it began signing (RFC 3339), if known. */
  readonly validFrom: string | null;
  /** When it stopped signing (RFC 3339); null for the key that signs now. */
  readonly validUntil: string | null;
}

/** Every key that verifies a service's reports: the current one and those before a rotation. */
export interface ReportKeySet {
  readonly keys: readonly PublishedReportKey[];
}

/** The report versions this package's verifiers read; a report of another version is refused. */
export const REPORT_VERSIONS = [1, 2] as const;

/**
 * Why `key` does not vouch for a report completed at `completedAt` (RFC
 * 3339): dated after it stopped signing, or before it began; null when it
 * does.
 */
export const keyValidityProblem = (key: PublishedReportKey, completedAt: string): string | null => {
  const signedAt = Date.parse(completedAt);
  if (key.validUntil !== null && signedAt > Date.parse(key.validUntil))
    return 'the report is dated after its key stopped signing';
  if (key.validFrom !== null && signedAt < Date.parse(key.validFrom))
    return 'the report is dated before its key began signing';
  return null;
};
