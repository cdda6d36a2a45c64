import type { ParticipantSpec } from '../domain/erasure-steps.js';

/** A linked service as configured: where it is and how to call it. */
export interface ParticipantRegistration extends ParticipantSpec {
  readonly address: string;
  /** Use TLS (the system's trusted CAs) instead of plaintext. */
  readonly tls: boolean;
  /** Deadline of one call. */
  readonly timeoutMs: number;
}
