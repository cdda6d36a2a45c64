import type { RetryPolicy } from '../domain/erasure-steps.js';
import type { RiskPolicyConfig } from '../domain/risk-policy.js';
import type { Jurisdiction } from '../domain/legal-deadline.js';
import type { SubjectId } from '../domain/ids.js';
import type {
  AccountDirectory,
  AuditLog,
  Clock,
  DeletionMetrics,
  DeletionRequestRepository,
  IdGenerator,
  Notifier,
  OneTimeCodes,
  Participants,
  ReportSigner,
  SubjectKeyStore,
  TraceContext,
} from './ports.js';

/** The rules the use cases follow, from configuration. */
export interface DeletionPolicy {
  readonly gracePeriodMs: number;
  /** How long the one-time code is valid; an unconfirmed request expires with it. */
  readonly codeTtlMs: number;
  readonly maxConfirmAttempts: number;
  readonly risk: RiskPolicyConfig;
  readonly stepUp: { readonly allowed: boolean; readonly maxAgeMs: number };
  readonly defaultJurisdiction: Jurisdiction;
  readonly leaseMs: number;
  /** Back-off of failed calls to linked services. */
  readonly retry: RetryPolicy;
  /** How many linked services one purge calls at once. */
  readonly fanOutConcurrency: number;
  /** How often a watch reads the request it follows. */
  readonly watchPollMs: number;
  /** How many watches one replica serves at once. */
  readonly maxWatches: number;
  /** Erase the account's own data after every linked service answered (default) or first. */
  readonly localErasure: 'after-participants' | 'first';
}

/** The ports every use case may use. */
export interface DeletionDeps {
  readonly requests: DeletionRequestRepository;
  readonly accounts: AccountDirectory;
  readonly notifier: Notifier;
  readonly codes: OneTimeCodes;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly trace: TraceContext;
  readonly metrics: DeletionMetrics;
  readonly participants: Participants;
  readonly signer: ReportSigner;
  readonly policy: DeletionPolicy;
  /** Crypto-shredding: the subjects' data keys, and the audit log their destruction goes to. */
  readonly shredding: {
    readonly keys: Pick<SubjectKeyStore, 'destroy'>;
    readonly audit: AuditLog;
    readonly pseudonymOf: (subjectId: SubjectId) => string;
  };
}
