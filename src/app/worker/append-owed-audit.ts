import { everythingAudited } from '../../domain/audit-marks.js';
import type { DeletionDeps } from '../deletion-deps.js';

/** Longer than a writer's outbox takes to append what it owes (it gathers for milliseconds). */
export const OWED_AUDIT_GRACE_MS = 60_000;
const BATCH = 50;

/**
 * Appends the facts (state changes, notices sent, final answers) requests
 * still owe the audit log a while after they were recorded (their writer
 * died before appending, or the log was away), oldest first, and records on
 * each request that they are in: a bookkeeping write (its `updatedAt`
 * stays), also for facts its writer did append with no write after to
 * record that (a notice sent after the last change). A request that changed
 * meanwhile is left to its next write, which records what the outbox
 * appended. Returns how many requests lacked events in the log. Errors:
 * UNAVAILABLE when the log or the database is away (what is owed stays owed).
 */
export const appendOwedAudit = async (
  deps: Pick<DeletionDeps, 'requests' | 'audit' | 'clock'>,
): Promise<number> => {
  const before = new Date(deps.clock.now().getTime() - OWED_AUDIT_GRACE_MS);
  let appended = 0;
  for (const request of await deps.requests.findAuditDue(before, BATCH)) {
    const missing = await deps.audit.outbox.appendOwed(request);
    const next = {
      ...request,
      audited: everythingAudited(request),
      version: request.version + 1,
    };
    if ((await deps.requests.update(next, request)) && missing > 0) appended += 1;
  }
  return appended;
};
