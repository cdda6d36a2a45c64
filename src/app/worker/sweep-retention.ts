import { systemActor } from '../../domain/principal.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { afterSnapshotsPruned, sweepRecord } from '../../domain/retention.js';
import type { DeletionDeps } from '../deletion-deps.js';

/** Requests one sweep cuts down at most; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/** Cuts one request down, its RECORD_SWEPT event first; the cut version, or null when the request moved on. */
const cutDown = async (
  deps: Pick<DeletionDeps, 'audit' | 'pseudonymOf' | 'requests' | 'signer'>,
  request: DeletionRequest,
  now: Date,
): Promise<DeletionRequest | null> => {
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
  return (await deps.requests.update(cut, request)) ? cut : null;
};

/**
 * Cuts closed requests down to what the audit needs once `retentionMs` has
 * passed since they last changed (see `sweepRecord`), and audits each one
 * (RECORD_SWEPT, once per request however often a sweep is repeated) before
 * it is cut: a crash in between leaves an event whose cut the next sweep
 * makes, never a cut without its event. Then it prunes the request's older
 * snapshots (they name the subject) and records that; a prune that failed is
 * done again by the next sweep. Returns how many were cut.
 * Errors: UNAVAILABLE.
 */
export const sweepRetention = async (
  deps: Pick<DeletionDeps, 'audit' | 'clock' | 'policy' | 'pseudonymOf' | 'requests' | 'signer'>,
): Promise<number> => {
  const now = deps.clock.now();
  const due = await deps.requests.findRetentionDue(
    new Date(now.getTime() - deps.policy.retentionMs),
    SWEEP_BATCH,
  );
  let swept = 0;
  for (const request of due) {
    const cut = request.retention === null ? await cutDown(deps, request, now) : request;
    if (cut === null) continue;
    if (cut !== request) swept += 1;
    await deps.requests.pruneSnapshots(cut.id, cut.version);
    await deps.requests.update(afterSnapshotsPruned(cut, now), cut);
  }
  return swept;
};
