import { createHash } from 'node:crypto';
import { auditTransitions } from '../../../src/app/audit/audit-trail.js';
import { createAfterwards } from '../../../src/app/common/afterwards.js';
import type { DeletionDeps, DeletionPolicy } from '../../../src/app/deletion-deps.js';
import { deletionPolicyOf, rateBudgets } from '../../../src/compose.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { createReportLinks } from '../../../src/crypto/report-links.js';
import type { SubjectId } from '../../../src/domain/ids.js';
import type { RateBudget, RateLimit } from '../../../src/domain/rate-limits.js';
import { fakeAccountDirectory, type FakeAccountDirectory } from './account-directory.js';
import {
  fakeAuditLog,
  fakeAuditOutbox,
  fakeAuditSeal,
  type FakeAuditLog,
  type FakeAuditOutbox,
} from './audit-log.js';
import { fakeBreakerStore, type FakeBreakerStore } from './breaker-store.js';
import { fakeClock, fakeIds, type FakeClock, type FakeIds } from './clock.js';
import { fakeDeletionMetrics, type FakeDeletionMetrics } from './deletion-metrics.js';
import {
  fakeDeletionRequestRepository,
  type FakeDeletionRequestRepository,
} from './deletion-request-repository.js';
import { fakeErasedSubjectLedger, type FakeErasedSubjectLedger } from './erased-subject-ledger.js';
import { fakeNotifier, type FakeNotifier } from './notifier.js';
import { fakeOneTimeCodes, type FakeOneTimeCodes } from './one-time-codes.js';
import { fakeOwnerAlerts, type FakeOwnerAlerts } from './owner-alerts.js';
import { fakeParticipants, type FakeParticipants } from './participants.js';
import { fakeRateLimiter, type FakeRateLimiter } from './rate-limiter.js';
import { fakeReportSigner, type FakeReportSigner } from './report-signer.js';
import {
  fakeSubjectCipher,
  fakeSubjectKeyStore,
  type FakeSubjectKeyStore,
} from './subject-keys.js';
import { fakeTraceContext, type FakeTraceContext } from './trace-context.js';
import { fakeWorkSchedule, type FakeWorkSchedule } from './work-schedule.js';

/** Every fake of a port, and the helpers they share, from one module. */
export * from './account-directory.js';
export * from './api-key-store.js';
export * from './audit-log.js';
export * from './breaker-store.js';
export * from './clock.js';
export * from './deletion-metrics.js';
export * from './deletion-request-repository.js';
export * from './erased-subject-ledger.js';
export * from './notifier.js';
export * from './one-time-codes.js';
export * from './owner-alerts.js';
export * from './participants.js';
export * from './rate-limiter.js';
export * from './report-signer.js';
export * from './store-away.js';
export * from './subject-keys.js';
export * from './trace-context.js';
export * from './work-schedule.js';

/** A keyed-looking, stable pseudonym of a subject (SHA-256, not keyed: a test can recompute it). */
export const fakePseudonymOf = (subjectId: SubjectId): string =>
  `psn_${createHash('sha256').update(`subject\0${subjectId}`).digest('base64url').slice(0, 32)}`;

/** The jitter of every back-off: the middle of its range, so a test can tell when a retry falls due. */
const FIXED_JITTER = (): number => 0.5;

/** The configuration's defaults (of a test), made into the policy and rate budgets as `compose.ts` does. */
const configured = () => {
  const config = loadConfig({ DELETION_ENV: 'test' });
  const budgets: Record<RateLimit, RateBudget> = rateBudgets(config);
  const policy = deletionPolicyOf(config, FIXED_JITTER);
  return { policy, budgets, digits: config.OTP_DIGITS };
};

/** The fakes behind a fake DeletionDeps, for a test to drive and read. */
export interface DeletionFakes {
  readonly clock: FakeClock;
  readonly ids: FakeIds;
  /** The repository as stored: without the audit of state changes the deps' one adds. */
  readonly requests: FakeDeletionRequestRepository;
  readonly accounts: FakeAccountDirectory;
  readonly notifier: FakeNotifier;
  readonly ownerAlerts: FakeOwnerAlerts;
  readonly codes: FakeOneTimeCodes;
  readonly schedule: FakeWorkSchedule;
  readonly trace: FakeTraceContext;
  readonly metrics: FakeDeletionMetrics;
  readonly participants: FakeParticipants;
  readonly signer: FakeReportSigner;
  readonly auditLog: FakeAuditLog;
  readonly outbox: FakeAuditOutbox;
  readonly breaker: FakeBreakerStore;
  readonly ledger: FakeErasedSubjectLedger;
  readonly limiter: FakeRateLimiter;
  /** The subjects' data keys: the requests' personal data is sealed with them, and shredding destroys them. */
  readonly keys: FakeSubjectKeyStore;
  /** Failures of work left to finish after a call (it stays owed on the request). */
  readonly afterwardsFailures: readonly unknown[];
}

/** What a test changes of fake deps: any port, and any rule of the policy. */
export type FakeDeletionDepsOverrides = Partial<Omit<DeletionDeps, 'policy'>> & {
  readonly policy?: Partial<DeletionPolicy>;
};

/** DeletionDeps over fakes, with `fakes` to drive them. */
export type FakeDeletionDeps = DeletionDeps & { readonly fakes: DeletionFakes };

/**
 * A complete DeletionDeps of in-memory fakes, wired as `compose.ts` wires the
 * real ones (state changes audited through the outbox, the policy and rate
 * budgets from the configuration's defaults, back-off jitter fixed at the
 * middle), on a fake clock that moves only when told. A port or rule in
 * `overrides` replaces the fake's (its fake in `fakes` is then unused).
 */
export const fakeDeletionDeps = (overrides: FakeDeletionDepsOverrides = {}): FakeDeletionDeps => {
  const { policy, budgets, digits } = configured();
  const clock = fakeClock();
  const keys = fakeSubjectKeyStore();
  const requests = fakeDeletionRequestRepository(fakeSubjectCipher(keys));
  const seal = fakeAuditSeal();
  const auditLog = fakeAuditLog(seal);
  const outbox = fakeAuditOutbox(auditLog, fakePseudonymOf);
  const afterwardsFailures: unknown[] = [];
  const fakes: DeletionFakes = {
    clock,
    ids: fakeIds(),
    requests,
    accounts: fakeAccountDirectory(),
    notifier: fakeNotifier(),
    ownerAlerts: fakeOwnerAlerts(),
    codes: fakeOneTimeCodes({ digits }),
    schedule: fakeWorkSchedule(),
    trace: fakeTraceContext(),
    metrics: fakeDeletionMetrics(),
    participants: fakeParticipants([], fakePseudonymOf),
    signer: fakeReportSigner(),
    auditLog,
    outbox,
    breaker: fakeBreakerStore(),
    ledger: fakeErasedSubjectLedger(),
    limiter: fakeRateLimiter({ budgets, clock }),
    keys,
    afterwardsFailures,
  };
  const { policy: rules, ...ports } = overrides;
  return {
    requests: auditTransitions(requests, outbox),
    accounts: fakes.accounts,
    notifier: fakes.notifier,
    ownerAlerts: fakes.ownerAlerts,
    codes: fakes.codes,
    clock,
    schedule: fakes.schedule,
    afterwards: createAfterwards((error) => afterwardsFailures.push(error)),
    ids: fakes.ids,
    trace: fakes.trace,
    metrics: fakes.metrics,
    participants: fakes.participants,
    signer: fakes.signer,
    // The real links: stateless, with a fixed secret and no template unless a test gives one.
    reportLinks: createReportLinks({
      template: null,
      keyMaterial: 'fake-report-links',
      ttlMs: 86_400_000,
    }),
    audit: { log: auditLog, seal, outbox },
    pseudonymOf: fakePseudonymOf,
    breaker: fakes.breaker,
    ledger: fakes.ledger,
    limiter: fakes.limiter,
    shredding: { keys },
    ...ports,
    policy: { ...policy, ...rules },
    fakes,
  };
};
