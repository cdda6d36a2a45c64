import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { ReportSigner } from '../app/ports/report-signer.js';

/** The id of a report key: the SHA-256 of its public key (SPKI DER), base64url. */
export const reportKeyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');

/** One key of the published key set (`GET /erasure-report-keys`). */
export interface PublishedReportKey {
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
  /** SPKI PEM. */
  readonly publicKey: string;
  /** When it began signing, if known (RFC 3339). */
  readonly validFrom: string | null;
  /** When it stopped (RFC 3339); null for the key that signs now. */
  readonly validUntil: string | null;
  readonly current: boolean;
}

/** The keys that verify this service's reports: the one that signs now, and the ones before it. */
export interface ReportKeySet {
  readonly keys: readonly PublishedReportKey[];
}

/**
 * The published key set: the signing key, then each previous one with the
 * time it stopped signing, so a report signed before a rotation still
 * verifies, and one dated after its key's end does not.
 */
export const reportKeySet = (
  signer: Pick<Ed25519ReportSigner, 'keyId' | 'publicKeyPem'>,
  keys: {
    readonly since?: string | undefined;
    readonly previous?:
      | readonly {
          readonly publicKey: string;
          readonly validFrom?: string | undefined;
          readonly validUntil: string;
        }[]
      | undefined;
  },
): ReportKeySet => ({
  keys: [
    {
      keyId: signer.keyId,
      algorithm: 'Ed25519',
      publicKey: signer.publicKeyPem,
      validFrom: keys.since ?? null,
      validUntil: null,
      current: true,
    },
    ...(keys.previous ?? []).map((previous): PublishedReportKey => {
      const publicKey = createPublicKey(previous.publicKey);
      return {
        keyId: reportKeyIdOf(publicKey),
        algorithm: 'Ed25519',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        validFrom: previous.validFrom ?? null,
        validUntil: previous.validUntil,
        current: false,
      };
    }),
  ],
});

/** The signer, and what verifiers need: the public key and its id. */
export interface Ed25519ReportSigner extends ReportSigner {
  readonly publicKeyPem: string;
  readonly keyId: string;
}

/**
 * Signs erasure reports with Ed25519. The key comes from configuration
 * (PKCS#8 PEM); without one (development and tests only, production refuses)
 * a key is made for this process. The key id is the SHA-256 of the public key
 * (SPKI DER), so a verifier can tell which key it needs.
 */
export const createEd25519ReportSigner = (
  privateKeyPem: string | undefined,
): Ed25519ReportSigner => {
  const privateKey: KeyObject =
    privateKeyPem === undefined
      ? generateKeyPairSync('ed25519').privateKey
      : createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const keyId = reportKeyIdOf(publicKey);
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId,
    sign: (payload) => ({
      signature: sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64'),
      keyId,
    }),
    digest: (payload) => createHash('sha256').update(payload, 'utf8').digest('hex'),
  };
};
