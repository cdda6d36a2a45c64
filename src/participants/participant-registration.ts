import type { ParticipantSpec } from '../domain/erasure-steps.js';

/** TLS to a linked service: paths of PEM files, read once at start-up. */
export interface ParticipantTls {
  /** CA certificates that sign the service's certificate; default: the system's trusted CAs. */
  readonly caFile?: string | undefined;
  /** Client certificate chain for mutual TLS; always given with keyFile. */
  readonly certFile?: string | undefined;
  /** Private key of certFile. */
  readonly keyFile?: string | undefined;
  /** The name checked in the service's certificate, when the address is an IP or an alias. */
  readonly serverName?: string | undefined;
}

/** A linked service as configured: where it is and how to call it. */
export interface ParticipantRegistration extends ParticipantSpec {
  readonly address: string;
  /** TLS settings; null: plaintext. */
  readonly tls: ParticipantTls | null;
  /** Deadline of one call. */
  readonly timeoutMs: number;
  /** Which subject id the service is given: the real one, or its keyed pseudonym. */
  readonly subjectId: 'real' | 'pseudonym';
  /** The data categories the deletion covers at this service (sent with Suspend and Erase); empty: all. */
  readonly categories: readonly string[];
}
