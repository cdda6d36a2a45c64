import type { ErasureReport, SignedReport } from '@account-deletion/erasure-report';
import {
  keyValidityProblem,
  REPORT_VERSIONS,
  type PublishedReportKey,
  type ReportKeySet,
} from '@account-deletion/erasure-report/key-set';

/**
 * Whether a report verifies, checked here in the browser (WebCrypto) against
 * the published key set: the signature, not a flag the service sets. (The key
 * set comes from the same service; an independent check uses a saved copy:
 * `deletionctl report --key-set`.)
 */
export type ReportCheck =
  | { readonly verified: true; readonly keyId: string; readonly content: ErasureReport }
  | { readonly verified: false; readonly problem: string };

const bytesOf = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));

const base64url = (bytes: ArrayBuffer): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

/**
 * Verifies the report's Ed25519 signature with the key it names from the
 * service's published key set (`/erasure-report-keys`), and that it is dated
 * within that key's validity (the package's own rule, `keyValidityProblem`):
 * what `verifyErasureReportWithKeySet` checks, with the browser's WebCrypto.
 */
export const checkReport = async (report: SignedReport): Promise<ReportCheck> => {
  const response = await fetch('/erasure-report-keys', { credentials: 'omit' });
  if (!response.ok) return { verified: false, problem: 'the key set could not be fetched' };
  const { keys } = (await response.json()) as ReportKeySet;
  const key: PublishedReportKey | undefined = keys.find(
    (candidate) => candidate.keyId === report.keyId,
  );
  if (key === undefined) return { verified: false, problem: 'it names a key the key set lacks' };
  const der = bytesOf(key.publicKey.replace(/-----[^-]+-----|\s/g, ''));
  if (base64url(await crypto.subtle.digest('SHA-256', der)) !== key.keyId)
    return { verified: false, problem: 'the key set’s key does not match its id' };
  const publicKey = await crypto.subtle.importKey('spki', der, { name: 'Ed25519' }, false, [
    'verify',
  ]);
  const valid = await crypto.subtle.verify(
    { name: 'Ed25519' },
    publicKey,
    bytesOf(report.signature),
    new TextEncoder().encode(report.payload),
  );
  if (!valid) return { verified: false, problem: 'the signature does not match the report' };
  const content = JSON.parse(report.payload) as ErasureReport;
  if (!REPORT_VERSIONS.includes(content.version))
    return { verified: false, problem: 'it is of a version this console does not read' };
  const problem = keyValidityProblem(key, content.completedAt);
  if (problem !== null) return { verified: false, problem };
  return { verified: true, keyId: key.keyId, content };
};
