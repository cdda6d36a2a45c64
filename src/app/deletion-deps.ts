import type { NoticeRetryPolicy } from '../domain/subject-notice.js';
import type { OwnerAlertPolicy } from '../domain/owner-alerts.js';
import type { Afterwards } from './common/afterwards.js';
import type { BreakerPolicy } from '../domain/erasure-breaker.js';
import type { RetryPolicy } from '../domain/erasure-steps.js';
import type { SubjectId } from '../domain/ids.js';
import type { RiskPolicyConfig } from '../domain/risk-policy.js';
import type { Jurisdiction, LegalClock } from '../domain/legal-deadline.js';
import type { AuditOutbox, AuditLog, AuditSeal } from './ports/audit-log.js';
import type { WorkSchedule } from './ports/work-schedule.js';
import type { AccountDirectory } from './ports/account-directory.js';
import type { BreakerStore } from './ports/breaker-store.js';
import type { Clock, IdGenerator } from './ports/clock.js';
import type { DeletionMetrics } from './ports/deletion-metrics.js';
import type { DeletionRequestRepository } from './ports/deletion-request-repository.js';
import type { ErasedSubjectLedger } from './ports/erased-subject-ledger.js';
import type { Notifier } from './ports/notifier.js';
import type { OneTimeCodes } from './ports/one-time-codes.js';
import type { OwnerAlerts } from './ports/owner-alerts.js';
import type { Participants } from './ports/participants.js';
import type { RateLimiter } from './ports/rate-limiter.js';
import type { ReportLinks } from './ports/report-links.js';
import type { ReportSigner } from './ports/report-signer.js';
import type { SubjectKeyStore } from './ports/subject-keys.js';
import type { TraceContext } from './ports/trace-context.js';

/** The rules the use cases follow, from configuration. */
export interface DeletionPolicy {
  readonly gracePeriodMs: number;
  /** How long the one-time code is valid; an unconfirmed request expires with it. */
  readonly codeTtlMs: number;
  readonly maxConfirmAttempts: number;
  readonly risk: RiskPolicyConfig;
  readonly stepUp: { readonly allowed: boolean; readonly maxAgeMs: number };
  readonly defaultJurisdiction: Jurisdiction;
  /** Each jurisdiction's time to answer and the one extension it allows. */
  readonly legalClocks: Readonly<Record<Jurisdiction, LegalClock>>;
  readonly leaseMs: number;
  /** Back-off of failed calls to linked services. */
  readonly retry: RetryPolicy;
  /** How many linked services one purge calls at once. */
  readonly fanOutConcurrency: number;
  /** Requests one worker pass works on at once. */
  readonly workerConcurrency: number;
  /** How often a watch reads the request it follows. */
  readonly watchPollMs: number;
  /** How many watches one replica serves at once. */
  readonly maxWatches: number;
  /** Live watches one caller may have open on one replica at once. */
  readonly maxWatchesPerCaller: number;
  /** Erase the account's own data after every linked service answered (default) or first. */
  readonly localErasure: 'after-participants' | 'first';
  /** The mass-deletion breaker's limits. */
  readonly breaker: BreakerPolicy;
  /** How long a closed request is kept whole (since its last change) before it is cut down to what the audit needs. */
  readonly retentionMs: number;
  /** Back-off of notices to the subject whose channel is down, and when to give up on one. */
  readonly noticeRetry: NoticeRetryPolicy;
  /** Back-off of alerts to linked services' owners whose webhook fails, and how many deliveries in all. */
  readonly ownerAlerts: OwnerAlertPolicy;
}

/**
 * The app layer's ports. Each use case and step declares the ones it uses
 * (`Pick<DeletionDeps, 'requests' | 'clock'>`), so a test hands it those and
 * nothing else, and the signature says what it touches.
 */
export interface DeletionDeps {
  readonly requests: DeletionRequestRepository;
  readonly accounts: AccountDirectory;
  readonly notifier: Notifier;
  /** Alerts to the teams owning linked services a request needs attention on. */
  readonly ownerAlerts: OwnerAlerts;
  readonly codes: OneTimeCodes;
  readonly clock: Clock;
  /** Wakes this replica's worker when work falls due sooner than its next pass. */
  readonly schedule: WorkSchedule;
  /** What a call finishes after it answered (the notices its change claimed). */
  readonly afterwards: Afterwards;
  readonly ids: IdGenerator;
  readonly trace: TraceContext;
  readonly metrics: DeletionMetrics;
  readonly participants: Participants;
  readonly signer: ReportSigner;
  /** Links to a completed request's report that work without an account (the completion notice's). */
  readonly reportLinks: ReportLinks;
  /** The audit log, the keys that seal and verify it, and the outbox of owed state changes. */
  readonly audit: {
    readonly log: AuditLog;
    readonly seal: AuditSeal;
    readonly outbox: AuditOutbox;
  };
  /** A subject's keyed pseudonym: how the audit log and the ledger name subjects. */
  readonly pseudonymOf: (subjectId: SubjectId) => string;
  readonly breaker: BreakerStore;
  readonly ledger: ErasedSubjectLedger;
  readonly limiter: RateLimiter;
  readonly policy: DeletionPolicy;
  /** Crypto-shredding: the subjects' data keys (their destruction is audited). */
  readonly shredding: { readonly keys: Pick<SubjectKeyStore, 'destroy'> };
}
