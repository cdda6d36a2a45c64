import type { DeletionRequest } from '../../domain/deletion-request.js';
import { keyDestroyedEntry } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { attributeKeys, stepSpans } from '../../telemetry/catalogue.js';

/** Destroys the subject's data key: every copy of what it sealed, backups included, becomes unreadable. */
export const destroySubjectKey = (
  deps: Pick<DeletionDeps, 'trace' | 'shredding'>,
  request: DeletionRequest,
): Promise<void> =>
  deps.trace.inSpan(stepSpans.shredKey, { [attributeKeys.requestId]: request.id }, () =>
    deps.shredding.keys.destroy(request.subjectId),
  );

/**
 * Crypto-shreds the subject of a request that COMPLETED with its key still
 * there (completed before the purge destroyed keys itself): destroys the
 * key, appends a KEY_DESTROYED audit event, then records it on the request.
 * Waits (false) while another open request of the subject still needs the
 * key. Every step is idempotent: a pass that dies half-way is repeated by
 * the next one (the request is found again until it records the destruction).
 * Errors: UNAVAILABLE when the key vault, the audit log or the database is away.
 */
export const shredSubjectKey = async (
  deps: Pick<DeletionDeps, 'audit' | 'clock' | 'pseudonymOf' | 'requests' | 'shredding' | 'trace'>,
  request: DeletionRequest,
): Promise<boolean> => {
  if (request.state !== 'COMPLETED' || request.subjectKeyDestroyedAt !== null) return false;
  const open = await deps.requests.findActiveBySubject(request.subjectId);
  if (open !== null && open.id !== request.id) return false;
  await destroySubjectKey(deps, request);
  const now = deps.clock.now();
  // After the request's state changes still owed: its last event is the key's destruction.
  await deps.audit.outbox.appendAfter(request, keyDestroyedEntry(deps.pseudonymOf, request, now));
  return deps.requests.update(
    { ...request, subjectKeyDestroyedAt: now, version: request.version + 1, updatedAt: now },
    request,
  );
};
