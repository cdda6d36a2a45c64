import { systemActor } from '../domain/principal.js';
import { sweepRecord } from '../domain/retention.js';
import type { DeletionDeps } from './deletion-deps.js';

/** Requests one sweep cuts down at most; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * Cuts closed requests down to what the audit needs once `retentionMs` has
 * passed since they last changed (see `sweepRecord`), and audits each one
 * (RECORD_SWEPT, once per request however often a sweep is repeated) before
 * it is cut: a crash in between leaves an event whose cut the next sweep
 * makes, never a cut without its event. Returns how many were cut.
 * Errors: UNAVAILABLE.
 */
export const sweepRetention = async (deps: DeletionDeps): Promise<number> => {
  const now = deps.clock.now();
  const due = await deps.requests.findRetentionDue(
    new Date(now.getTime() - deps.policy.retentionMs),
    SWEEP_BATCH,
  );
  let swept = 0;
  for (const request of due) {
    const pseudonym = deps.pseudonymOf(request.subjectId);
    const reportSha256 = request.report && deps.signer.digest(request.report.payload);
    await deps.audit.log.append({
      kind: 'RECORD_SWEPT',
      at: now,
      actor: systemActor('retention-sweeper'),
      deletionRequestId: request.id,
      subjectPseudonym: pseudonym,
      details: {
        // Only what a closed request cannot change: a retried sweep records the same.
        state: request.state,
        kept: 'pseudonym, states, times, trace ids, outcomes',
        ...(reportSha256 !== null && { reportSha256 }),
      },
      key: `${request.id}#record_swept`,
    });
    const cut = sweepRecord(request, { pseudonym, reportSha256, now });
    if (await deps.requests.update(cut, request)) swept += 1;
  }
  return swept;
};
