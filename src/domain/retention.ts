import type { Actor } from './principal.js';
import type { DeletionRequest } from './deletion-request.js';
import type { SubjectId } from './ids.js';

/**
 * A closed request cut down to what the audit needs, once its retention
 * period is over: the subject only by pseudonym, states, times, trace ids and
 * outcomes (of linked services: kind, counts, categories, legal basis). Gone:
 * every free text (reasons, notes, justifications), contact, code hash,
 * idempotency key and fingerprint, the owed and final notices, and the signed
 * report (it names the subject; its digest stays).
 */
export const sweepRecord = (
  request: DeletionRequest,
  swept: { readonly pseudonym: string; readonly reportSha256: string | null; readonly now: Date },
): DeletionRequest => {
  const pseudonymous = (actor: Actor): Actor =>
    actor.id === request.subjectId ? { kind: actor.kind, id: swept.pseudonym } : actor;
  return {
    ...request,
    subjectId: swept.pseudonym as SubjectId,
    requester: pseudonymous(request.requester),
    reason: '',
    reviewer: request.reviewer && pseudonymous(request.reviewer),
    reviewNote: null,
    verification: null,
    deadlineExtension: request.deadlineExtension && {
      ...request.deadlineExtension,
      actor: pseudonymous(request.deadlineExtension.actor),
      reason: '',
    },
    notices: null,
    report: null,
    finalNotice: null,
    outbox: [],
    leaseOwner: null,
    leaseUntil: null,
    idempotencyKey: null,
    requestFingerprint: 'swept',
    history: request.history.map((change) => ({ ...change, actor: pseudonymous(change.actor) })),
    participants: Object.fromEntries(
      Object.entries(request.participants).map(([name, step]) => [
        name,
        step.outcome?.kind === 'MANUAL'
          ? { ...step, outcome: { ...step.outcome, justification: '' } }
          : step,
      ]),
    ),
    retention: { sweptAt: swept.now, reportSha256: swept.reportSha256, snapshotsPruned: false },
    version: request.version + 1,
    updatedAt: swept.now,
  };
};

/** A swept request once its older snapshots are pruned (the sweep's last step). */
export const afterSnapshotsPruned = (request: DeletionRequest, now: Date): DeletionRequest =>
  request.retention === null
    ? request
    : {
        ...request,
        retention: { ...request.retention, snapshotsPruned: true },
        version: request.version + 1,
        updatedAt: now,
      };
