import { retryAt, type ParticipantSpec, type Phase, type RetryPolicy } from './erasure-steps.js';

/** Suspend or Restore calls still owed to linked services after a soft delete or an undelete. */
export interface PendingNotices {
  readonly phase: Extract<Phase, 'suspend' | 'restore'>;
  /** Names of the linked services that have not acknowledged yet. */
  readonly pending: readonly string[];
  readonly attempts: number;
  /** When the worker sends them (again). */
  readonly dueAt: Date;
}

/** The notices a soft delete (suspend) or an undelete (restore) owes, due now; null when none. */
export const noticesFor = (
  phase: PendingNotices['phase'],
  specs: readonly ParticipantSpec[],
  now: Date,
): PendingNotices | null => {
  const pending = specs.filter((spec) => spec.phases.includes(phase)).map((spec) => spec.name);
  return pending.length === 0 ? null : { phase, pending, attempts: 0, dueAt: now };
};

/**
 * After a round of calls: done when every service acknowledged, else the rest
 * is due again after a capped, fully jittered delay.
 */
export const afterNoticeRound = (
  notices: PendingNotices,
  failed: readonly string[],
  policy: RetryPolicy & { readonly now: Date },
): PendingNotices | null => {
  if (failed.length === 0) return null;
  const attempts = notices.attempts + 1;
  return { ...notices, pending: failed, attempts, dueAt: retryAt(attempts, policy) };
};
