import type { DeletionDeps } from './deletion-deps.js';

/** Longer than a writer's outbox takes to append what it owes (it gathers for milliseconds). */
export const OWED_AUDIT_GRACE_MS = 60_000;
const BATCH = 50;

/**
 * Appends the state changes requests still owe the audit log a while after
 * they were made (their writer died before appending, or the log was away),
 * oldest first, and records on each request that they are in (a bookkeeping
 * write: its `updatedAt` stays). A request that changed meanwhile is left to
 * its next write, which records what the outbox appended. Returns how many
 * requests it brought up to date. Errors: UNAVAILABLE when the log or the
 * database is away (what is owed stays owed).
 */
export const appendOwedAudit = async (
  deps: Pick<DeletionDeps, 'requests' | 'audit' | 'clock'>,
): Promise<number> => {
  const before = new Date(deps.clock.now().getTime() - OWED_AUDIT_GRACE_MS);
  let recorded = 0;
  for (const request of await deps.requests.findAuditDue(before, BATCH)) {
    await deps.audit.outbox.appendOwed(request);
    const next = {
      ...request,
      auditedThrough: request.history.length,
      version: request.version + 1,
    };
    if (await deps.requests.update(next, request)) recorded += 1;
  }
  return recorded;
};
