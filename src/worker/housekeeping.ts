import type { Logger } from 'pino';
import type { DeletionDeps } from '../app/deletion-deps.js';
import { appendOwedAudit } from '../app/worker/append-owed-audit.js';
import { sweepRetention } from '../app/worker/sweep-retention.js';
import { findDeadlineWarnings } from '../app/worker/find-deadline-warnings.js';

/** What one housekeeping run did. */
export interface HousekeepingRun {
  /** False when another replica holds the housekeeping lease: this one did nothing. */
  readonly held: boolean;
  /** Open requests near (or past) their legal deadline, each logged as a warning. */
  readonly nearDeadline: number;
  /** Closed requests cut down to what the audit needs. */
  readonly swept: number;
  /** Dev mailbox messages deleted. */
  readonly mailboxExpired: number;
  /** Requests whose owed facts this run appended to the audit log (their writer did not). */
  readonly audited: number;
}

/**
 * One run of the slow housekeeping, by the one replica holding its lease
 * (taken or renewed first; others skip the run): a warning log line per open request near
 * its legal deadline (what a log alert matches, beside the
 * `deletion.requests.near_deadline` gauge), the retention sweep, the
 * expiry of dev mailbox messages, and (first) the audit events requests still owe. Each part runs even if another failed; the
 * run then rejects with the first failure (the periodic task logs it).
 */
export const housekeeping =
  (
    deps: Pick<DeletionDeps, 'audit' | 'clock' | 'policy' | 'pseudonymOf' | 'requests' | 'signer'>,
    options: {
      /** Takes or renews this replica's housekeeping lease; false while another holds it. */
      readonly lease: () => Promise<boolean>;
      readonly logger: Logger;
      readonly warningMs: number;
      /** Deletes dev mailbox messages sent before the date (absent: no dev mailbox). */
      readonly expireMailbox?: ((before: Date) => Promise<number>) | undefined;
      readonly mailboxRetentionMs: number;
    },
  ) =>
  async (): Promise<HousekeepingRun> => {
    const { logger } = options;
    if (!(await options.lease()))
      return { held: false, nearDeadline: 0, swept: 0, mailboxExpired: 0, audited: 0 };
    // What requests owe the log first: the retention sweep waits for a request to owe nothing.
    const [audited] = await Promise.allSettled([appendOwedAudit(deps)]);
    const [warnings, swept, mailboxExpired] = await Promise.allSettled([
      findDeadlineWarnings(deps, options.warningMs),
      sweepRetention(deps),
      options.expireMailbox?.(new Date(deps.clock.now().getTime() - options.mailboxRetentionMs)) ??
        Promise.resolve(0),
    ]);
    if (warnings.status === 'fulfilled')
      for (const warning of warnings.value)
        logger.warn(
          {
            alert: 'DELETION_DEADLINE_NEAR',
            deletionRequest: warning.deletionRequestId,
            state: warning.state,
            jurisdiction: warning.jurisdiction,
            legalDeadline: warning.legalDeadline.toISOString(),
            hoursLeft: warning.hoursLeft,
            extended: warning.extended,
          },
          warning.hoursLeft < 0
            ? 'deletion request past its legal deadline'
            : 'deletion request near its legal deadline',
        );
    if (swept.status === 'fulfilled' && swept.value > 0)
      logger.info({ swept: swept.value }, 'closed requests cut down to their audit record');
    if (audited.status === 'fulfilled' && audited.value > 0)
      logger.warn(
        { audited: audited.value },
        'facts appended to the audit log after their writer did not',
      );
    const failed = [warnings, swept, mailboxExpired, audited].find(
      (part) => part.status === 'rejected',
    );
    if (failed !== undefined) throw failed.reason;
    return {
      held: true,
      nearDeadline: warnings.status === 'fulfilled' ? warnings.value.length : 0,
      swept: swept.status === 'fulfilled' ? swept.value : 0,
      mailboxExpired: mailboxExpired.status === 'fulfilled' ? mailboxExpired.value : 0,
      audited: audited.status === 'fulfilled' ? audited.value : 0,
    };
  };
