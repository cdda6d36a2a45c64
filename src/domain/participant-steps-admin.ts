import { DomainError, preconditionFailed } from './domain-error.js';
import { transition, type ChangeContext, type DeletionRequest } from './deletion-request.js';
import { assertSecondPerson } from './lifecycle.js';
import type { ErasureOutcome, ParticipantStep } from './erasure-steps.js';

const stepOf = (request: DeletionRequest, participant: string): ParticipantStep => {
  const step = request.participants[participant];
  if (step !== undefined) return step;
  throw new DomainError({
    code: 'NOT_FOUND',
    reason: 'PARTICIPANT_NOT_FOUND',
    message: 'the request has no step for this linked service',
    metadata: { deletionRequest: request.id, participant },
  });
};

/** Puts the step back and, if the purge was stuck, hands it back to the worker at once. */
const resume = (
  request: DeletionRequest,
  change: { readonly participant: string; readonly step: ParticipantStep; readonly note: string },
  context: ChangeContext,
): DeletionRequest => {
  const participants = { ...request.participants, [change.participant]: change.step };
  const stillFailed = Object.values(participants).some((step) => step.status === 'FAILED');
  const base = { ...request, participants };
  if (request.state !== 'NEEDS_ATTENTION' || stillFailed) {
    return { ...base, version: request.version + 1, updatedAt: context.now };
  }
  const resumed = transition(base, { to: 'ERASING', verb: 'erase', note: change.note }, context);
  return { ...resumed, leaseOwner: null, leaseUntil: context.now };
};

/**
 * Re-arms a FAILED step with a fresh retry budget (RetryParticipant); the
 * purge resumes when no other step has failed. Throws NOT_FOUND
 * `PARTICIPANT_NOT_FOUND`, FAILED_PRECONDITION `STEP_NOT_FAILED` or `INVALID_STATE`.
 */
export const retryParticipant = (
  request: DeletionRequest,
  participant: string,
  context: ChangeContext,
): DeletionRequest => {
  const step = stepOf(request, participant);
  if (step.status !== 'FAILED') {
    throw preconditionFailed('STEP_NOT_FAILED', 'only a failed step can be retried', request.id);
  }
  const rearmed: ParticipantStep = {
    ...step,
    status: 'PENDING',
    attempts: 0,
    nextAttemptAt: null,
    expectedBy: null,
    updatedAt: context.now,
  };
  return resume(
    request,
    { participant, step: rearmed, note: `PARTICIPANT_RETRIED:${participant}` },
    context,
  );
};

/**
 * Records a manual erasure of a FAILED or waiting step (ResolveParticipant),
 * with a justification; the resolver must not be the requester. Throws
 * PERMISSION_DENIED `SELF_RESOLUTION`, NOT_FOUND, FAILED_PRECONDITION `STEP_NOT_OPEN`.
 */
export const resolveParticipant = (
  request: DeletionRequest,
  resolution: {
    readonly participant: string;
    readonly justification: string;
    readonly records: number;
  },
  context: ChangeContext,
): DeletionRequest => {
  assertSecondPerson(request, context.actor, { reason: 'SELF_RESOLUTION', role: 'resolver' });
  const step = stepOf(request, resolution.participant);
  if (step.status !== 'FAILED' && step.status !== 'ACCEPTED') {
    throw preconditionFailed(
      'STEP_NOT_OPEN',
      'only a failed or waiting step can be resolved by hand',
      request.id,
    );
  }
  const outcome: ErasureOutcome = {
    kind: 'MANUAL',
    records: resolution.records,
    justification: resolution.justification,
    resolvedBy: context.actor.id,
  };
  const done: ParticipantStep = {
    ...step,
    status: 'DONE',
    outcome,
    nextAttemptAt: null,
    updatedAt: context.now,
  };
  return resume(
    request,
    {
      participant: resolution.participant,
      step: done,
      note: `PARTICIPANT_RESOLVED:${resolution.participant}`,
    },
    context,
  );
};

/**
 * Records the final outcome an ACCEPTED step reports later; the worker then
 * finishes the purge. Throws NOT_FOUND, FAILED_PRECONDITION `STEP_NOT_WAITING`.
 */
export const reportOutcome = (
  request: DeletionRequest,
  report: { readonly participant: string; readonly outcome: ErasureOutcome },
  context: ChangeContext,
): DeletionRequest => {
  const step = stepOf(request, report.participant);
  if (step.status !== 'ACCEPTED' || request.state !== 'ERASING') {
    throw preconditionFailed(
      'STEP_NOT_WAITING',
      'this linked service has no pending erasure to report',
      request.id,
    );
  }
  const done: ParticipantStep = {
    ...step,
    status: 'DONE',
    outcome: report.outcome,
    expectedBy: null,
    updatedAt: context.now,
  };
  const leaseHeld =
    request.leaseOwner !== null && request.leaseUntil !== null && request.leaseUntil > context.now;
  return {
    ...request,
    participants: { ...request.participants, [report.participant]: done },
    version: request.version + 1,
    updatedAt: context.now,
    leaseUntil: leaseHeld ? request.leaseUntil : context.now,
  };
};
