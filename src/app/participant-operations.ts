import { authorize } from '../domain/authorization.js';
import { DomainError } from '../domain/domain-error.js';
import type { ChangeContext, DeletionRequest } from '../domain/deletion-request.js';
import type { ParticipantSpec } from '../domain/erasure-steps.js';
import {
  reportOutcome,
  resolveParticipant as resolveStep,
  retryParticipant as retryStep,
} from '../domain/participant-steps-admin.js';
import type { Principal } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import {
  parseInput,
  reportErasureOutcomeInput,
  resolveParticipantInput,
  retryParticipantInput,
  type ReportErasureOutcomeInput,
  type ResolveParticipantInput,
  type RetryParticipantInput,
} from './inputs.js';
import { mutateRequest } from './mutate-request.js';

const contextOf = (deps: DeletionDeps, principal: Principal): ChangeContext => ({
  actor: principal.actor,
  now: deps.clock.now(),
  ...deps.trace.current(),
});

/**
 * The caller must be a service (client credentials or a client certificate,
 * never a person's token, whatever it names) and the registered identity of
 * the participant it acts for; returns its registration.
 */
export const assertParticipantIdentity = (
  deps: DeletionDeps,
  principal: Principal,
  participant: string,
): ParticipantSpec => {
  if (principal.actor.kind !== 'SERVICE') {
    throw new DomainError({
      code: 'PERMISSION_DENIED',
      reason: 'NOT_A_SERVICE',
      message: 'only a linked service may act for itself, with its own credentials',
      metadata: { participant },
    });
  }
  const spec = deps.participants.specs.find((candidate) => candidate.name === participant);
  if (spec?.identity === principal.actor.id) return spec;
  throw new DomainError({
    code: 'PERMISSION_DENIED',
    reason: 'NOT_THIS_PARTICIPANT',
    message: 'the caller is not the registered identity of this linked service',
    metadata: { participant },
  });
};

/**
 * A linked service that answered ACCEPTED reports its final outcome; the worker
 * then finishes the purge. Errors: PERMISSION_DENIED (`NOT_A_SERVICE`, `NOT_THIS_PARTICIPANT`),
 * NOT_FOUND, INVALID_ARGUMENT (`SUBJECT_MISMATCH`), FAILED_PRECONDITION (`STEP_NOT_WAITING`).
 */
export const reportErasureOutcome =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: ReportErasureOutcomeInput): Promise<void> => {
    const reach = authorize(principal, 'reportErasureOutcome');
    const input = parseInput(reportErasureOutcomeInput, raw);
    assertParticipantIdentity(deps, principal, input.participant);
    await mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'reportErasureOutcome',
      change: (current) => {
        if (
          deps.participants.subjectIdFor(input.participant, current.subjectId) !== input.subjectId
        ) {
          throw new DomainError({
            code: 'INVALID_ARGUMENT',
            reason: 'SUBJECT_MISMATCH',
            message: 'the report names another subject than the request',
            fieldViolations: [{ field: 'subjectId', description: 'does not match the request' }],
          });
        }
        return reportOutcome(
          current,
          { participant: input.participant, outcome: input.outcome },
          contextOf(deps, principal),
        );
      },
    });
  };

/**
 * Re-arms a failed linked-service step with a fresh budget; the purge resumes.
 * Errors: PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION (`STEP_NOT_FAILED`), ABORTED.
 */
export const retryParticipant =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: RetryParticipantInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'retryParticipant');
    const input = parseInput(retryParticipantInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'retryParticipant',
      etag: input.etag,
      change: (current) => retryStep(current, input.participant, contextOf(deps, principal)),
    });
  };

/**
 * Records a manual erasure of a failed or waiting step, with a justification;
 * the purge resumes. Errors: PERMISSION_DENIED (also `SELF_RESOLUTION`),
 * NOT_FOUND, FAILED_PRECONDITION (`STEP_NOT_OPEN`), ABORTED.
 */
export const resolveParticipant =
  (deps: DeletionDeps) =>
  async (principal: Principal, raw: ResolveParticipantInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'resolveParticipant');
    const input = parseInput(resolveParticipantInput, raw);
    return mutateRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'resolveParticipant',
      etag: input.etag,
      change: (current) =>
        resolveStep(
          current,
          {
            participant: input.participant,
            justification: input.justification,
            records: input.records,
          },
          contextOf(deps, principal),
        ),
    });
  };
