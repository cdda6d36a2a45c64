import type { DeletionRequest } from '../domain/deletion-request.js';
import { systemActor } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import { attributeKeys, stepSpans } from './telemetry-catalogue.js';

/**
 * Crypto-shreds a COMPLETED request's subject: destroys their data key (every
 * copy of their personal data the service stored, backups included, becomes
 * unreadable), appends a KEY_DESTROYED audit event, then records it on the
 * request. Runs after completion, so the final notice has been sent or given
 * up. Waits (false) while another open request of the subject still needs
 * the key. Every step is idempotent: a pass that dies half-way is repeated by
 * the next one (the request is found again until it records the destruction).
 * Errors: UNAVAILABLE when the key vault, the audit log or the database is away.
 */
export const shredSubjectKey = async (
  deps: DeletionDeps,
  request: DeletionRequest,
): Promise<boolean> => {
  if (request.state !== 'COMPLETED' || request.subjectKeyDestroyedAt !== null) return false;
  const open = await deps.requests.findActiveBySubject(request.subjectId);
  if (open !== null && open.id !== request.id) return false;
  await deps.trace.inSpan(stepSpans.shredKey, { [attributeKeys.requestId]: request.id }, () =>
    deps.shredding.keys.destroy(request.subjectId),
  );
  const now = deps.clock.now();
  // After the request's state changes still owed: its last event is the key's destruction.
  await deps.audit.outbox.appendAfter(request, {
    kind: 'KEY_DESTROYED',
    at: now,
    actor: systemActor('purge-worker'),
    deletionRequestId: request.id,
    subjectPseudonym: deps.pseudonymOf(request.subjectId),
    details: { key: 'SUBJECT_DATA_KEY', after: 'ERASURE_COMPLETED' },
    // Audited once per request, however many passes it takes.
    key: `${request.id}#key_destroyed`,
  });
  return deps.requests.update(
    { ...request, subjectKeyDestroyedAt: now, version: request.version + 1, updatedAt: now },
    request,
  );
};
