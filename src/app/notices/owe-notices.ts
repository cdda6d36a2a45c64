import type { DeletionRequest } from '../../domain/deletion-request.js';
import { DomainError } from '../../domain/domain-error.js';
import { afterNoticeRound, noticesFor } from '../../domain/notices.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { attributeKeys, stepSpans } from '../../telemetry/catalogue.js';
import { oweNoticeOfState } from '../../domain/subject-notice.js';

/**
 * The Suspend (soft delete) or Restore (undelete) calls a request now owes its
 * linked services, set in the same update as the state change so they can
 * never be lost; the worker sends them.
 */
export const oweNotices = (
  deps: Pick<DeletionDeps, 'clock' | 'participants'>,
  request: DeletionRequest,
): DeletionRequest => {
  const now = deps.clock.now();
  // The subject's notice is owed in the same update as the change: a crash cannot lose it.
  const told = oweNoticeOfState(request, now);
  if (request.state === 'SCHEDULED')
    return { ...told, notices: noticesFor('suspend', deps.participants.specs, now) };
  if (request.state === 'RESTORED')
    return { ...told, notices: noticesFor('restore', deps.participants.specs, now) };
  return told;
};

/**
 * Sends the owed calls of one request in parallel and records who has not
 * acknowledged yet (due again after a jittered back-off). Every call is keyed
 * by the request, so a repeat has one effect. False when nothing was left.
 */
export const sendNotices = async (
  deps: Pick<DeletionDeps, 'clock' | 'metrics' | 'participants' | 'policy' | 'requests' | 'trace'>,
  request: DeletionRequest,
): Promise<boolean> => {
  const notices = request.notices;
  if (notices === null || notices.dueAt > deps.clock.now()) return false;
  const call = { deletionRequestId: request.id, subjectId: request.subjectId };
  const results = await Promise.allSettled(
    notices.pending.map((name) =>
      deps.trace.inSpan(
        notices.phase === 'suspend' ? stepSpans.participantSuspend : stepSpans.participantRestore,
        { [attributeKeys.participant]: name, [attributeKeys.requestId]: request.id },
        () => deps.participants.notify(name, notices.phase, call),
      ),
    ),
  );
  const failures = notices.pending.flatMap((name, index) => {
    const result = results[index];
    return result?.status === 'rejected'
      ? [{ name, reason: DomainError.from(result.reason).reason }]
      : [];
  });
  const failed = failures.map((failure) => failure.name);
  const now = deps.clock.now();
  const next = afterNoticeRound(notices, failed, { ...deps.policy.retry, now });
  // A lost race means the request changed (e.g. an undelete now owes Restore): the next pass sends those.
  const written = await deps.requests.update(
    { ...request, notices: next, version: request.version + 1, updatedAt: now },
    request,
  );
  // A failed call is tried again only if this round's record stands.
  for (const { name, reason } of failures)
    deps.metrics.participantFailed({
      participant: name,
      phase: notices.phase,
      reason,
      retrying: written,
    });
  return written;
};
