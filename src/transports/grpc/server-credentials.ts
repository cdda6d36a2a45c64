import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';

/** PEM files of the gRPC server's TLS, by the variable that names them. */
export interface GrpcTlsFiles {
  readonly GRPC_TLS_CERT_FILE?: string | undefined;
  readonly GRPC_TLS_KEY_FILE?: string | undefined;
  readonly GRPC_CLIENT_CA_FILE?: string | undefined;
}

/** A PEM file read now: a missing, unreadable or empty one stops start-up, naming the variable. */
const readPem = (variable: keyof GrpcTlsFiles, path: string): Buffer => {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`${variable} cannot be read: ${path} (${code})`, { cause: error });
  }
  if (pem.length === 0) throw new Error(`${variable} is empty: ${path}`);
  return pem;
};

/**
 * The credentials the gRPC server binds with: plaintext without a
 * certificate; TLS with one; mutual TLS with client CAs, where the handshake
 * refuses a client without a certificate they sign. Throws (naming the
 * variable) when a file cannot be read or the files are not a usable
 * certificate, key and CA.
 */
export const grpcServerCredentials = (files: GrpcTlsFiles): ServerCredentials => {
  if (files.GRPC_TLS_CERT_FILE === undefined || files.GRPC_TLS_KEY_FILE === undefined)
    return ServerCredentials.createInsecure();
  const cert = readPem('GRPC_TLS_CERT_FILE', files.GRPC_TLS_CERT_FILE);
  const key = readPem('GRPC_TLS_KEY_FILE', files.GRPC_TLS_KEY_FILE);
  const ca =
    files.GRPC_CLIENT_CA_FILE === undefined
      ? null
      : readPem('GRPC_CLIENT_CA_FILE', files.GRPC_CLIENT_CA_FILE);
  try {
    // grpc-js would only find out at bind time, with a message naming no file.
    createSecureContext({ cert, key, ...(ca === null ? {} : { ca }) });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE${ca === null ? '' : ', GRPC_CLIENT_CA_FILE'}: not a usable certificate, key and CA: ${detail}`,
      { cause: error },
    );
  }
  return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
};
