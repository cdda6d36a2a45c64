import type { DeletionRequest } from '../domain/deletion-request.js';
import { afterNoticeRound, noticesFor } from '../domain/notices.js';
import type { DeletionDeps } from './deletion-deps.js';

/**
 * The Suspend (soft delete) or Restore (undelete) calls a request now owes its
 * linked services, set in the same update as the state change so they can
 * never be lost; the worker sends them.
 */
export const oweNotices = (deps: DeletionDeps, request: DeletionRequest): DeletionRequest => {
  const now = deps.clock.now();
  if (request.state === 'SCHEDULED')
    return { ...request, notices: noticesFor('suspend', deps.participants.specs, now) };
  if (request.state === 'RESTORED')
    return { ...request, notices: noticesFor('restore', deps.participants.specs, now) };
  return request;
};

/**
 * Sends the owed calls of one request in parallel and records who has not
 * acknowledged yet (due again after a jittered back-off). Every call is keyed
 * by the request, so a repeat has one effect. False when nothing was left.
 */
export const sendNotices = async (
  deps: DeletionDeps,
  request: DeletionRequest,
): Promise<boolean> => {
  const notices = request.notices;
  if (notices === null) return false;
  const call = { deletionRequestId: request.id, subjectId: request.subjectId };
  const results = await Promise.allSettled(
    notices.pending.map((name) =>
      deps.trace.inSpan(
        `participant.${notices.phase}`,
        { 'participant.name': name, 'deletion.request_id': request.id },
        () => deps.participants.notify(name, notices.phase, call),
      ),
    ),
  );
  const failed = notices.pending.filter((_, index) => results[index]?.status === 'rejected');
  const now = deps.clock.now();
  const next = afterNoticeRound(notices, failed, { ...deps.policy.retry, now });
  // A lost race means the request changed (e.g. an undelete now owes Restore): the next pass sends those.
  return deps.requests.update(
    { ...request, notices: next, version: request.version + 1, updatedAt: now },
    request.version,
  );
};
