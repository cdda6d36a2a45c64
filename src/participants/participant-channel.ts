import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { ParticipantRegistration } from './participant-registration.js';

/** How to open the channel to one linked service. */
export interface ParticipantChannel {
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
}

type PemField = 'caFile' | 'certFile' | 'keyFile';

/** Why start-up stops, naming the service and the setting so the operator knows what to fix. */
const refuse = (registration: ParticipantRegistration, problem: string, cause?: unknown): Error =>
  new Error(`PARTICIPANTS: "${registration.name}" ${problem}`, { cause });

/** A PEM file of the registration, read now: a missing, unreadable or empty one stops start-up. */
const readPem = (registration: ParticipantRegistration, field: PemField): Buffer | null => {
  const path = registration.tls?.[field];
  if (path === undefined) return null;
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw refuse(registration, `tls.${field} cannot be read: ${path} (${code})`, error);
  }
  if (pem.length === 0) throw refuse(registration, `tls.${field} is empty: ${path}`);
  return pem;
};

/**
 * The credentials and channel options of a registration: plaintext without
 * `tls`; otherwise TLS trusting `caFile` (or the system's CAs), presenting
 * `certFile`/`keyFile` for mutual TLS, and checking `serverName` instead of the
 * address's host when set. Throws (naming the service and the file) when a file
 * cannot be read or is not a usable certificate or key.
 */
export const participantChannel = (registration: ParticipantRegistration): ParticipantChannel => {
  const tls = registration.tls;
  if (tls === null) return { credentials: credentials.createInsecure(), options: {} };
  const [ca, cert, key] = [
    readPem(registration, 'caFile'),
    readPem(registration, 'certFile'),
    readPem(registration, 'keyFile'),
  ];
  let secure: ChannelCredentials;
  try {
    secure = credentials.createSsl(ca, key, cert);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw refuse(registration, `tls files are not a usable certificate and key: ${detail}`, error);
  }
  const options: ChannelOptions =
    tls.serverName === undefined
      ? {}
      : {
          'grpc.ssl_target_name_override': tls.serverName,
          'grpc.default_authority': tls.serverName,
        };
  return { credentials: secure, options };
};
