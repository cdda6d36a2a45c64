import { createDeletionRequest, type DeletionRequest } from '../../src/domain/deletion-request.js';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import { confirm } from '../../src/domain/lifecycle.js';

/**
 * A subject's own request, confirmed with a step-up and due for erasure now
 * (grace period 0), ready to insert straight into the database: for tests and
 * benchmarks about the purge, where running the code flow each time would test
 * the code flow instead. Its receipt and scheduled notices count as sent (the
 * outbox is empty), so the worker has only the purge to do.
 */
export const dueRequest = (id: string, subjectId: string, now = new Date()): DeletionRequest => {
  const request = createDeletionRequest({
    id: id as DeletionRequestId,
    subjectId: subjectId as SubjectId,
    requester: { kind: 'USER', id: subjectId },
    reason: '',
    riskReasons: [],
    jurisdiction: 'GDPR',
    legalDeadline: new Date(now.getTime() + 30 * 86_400_000),
    confirmExpireAt: new Date(now.getTime() + 600_000),
    verification: { codeHash: 'unused' },
    idempotencyKey: null,
    requestFingerprint: 'fingerprint',
    now,
  });
  const scheduled = confirm(
    request,
    { method: 'STEP_UP', gracePeriodMs: 0 },
    { actor: request.requester, now, traceId: '' },
  );
  // Its notices to the subject count as sent: the purge is what these measure.
  return { ...scheduled, accountSynced: true, outbox: [] };
};
