import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { ReportSigner } from '../app/ports/report-signer.js';

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
  const keyId = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
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
