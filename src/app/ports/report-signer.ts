/** Signs erasure reports (Ed25519); anyone with the public key can verify them. */
export interface ReportSigner {
  sign(payload: string): { readonly signature: string; readonly keyId: string };
  /** SHA-256 of a payload, hex: what identifies a report once the report itself is gone. */
  digest(payload: string): string;
}
