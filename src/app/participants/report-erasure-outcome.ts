import { authorize } from '../../domain/authorization.js';
import { DomainError } from '../../domain/domain-error.js';
import type { ParticipantSpec } from '../../domain/erasure-steps.js';
import { reportOutcome } from '../../domain/participant-steps-admin.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import {
  parseInput,
  reportErasureOutcomeInput,
  type ReportErasureOutcomeInput,
} from '../inputs.js';
import { mutateRequest } from '../requests/mutate-request.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * The caller must be a service (client credentials or a client certificate,
 * never a person's token, whatever it names) and the registered identity of
 * the participant it acts for; returns its registration.
 */
export const assertParticipantIdentity = (
  deps: Pick<DeletionDeps, 'participants'>,
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
  (deps: Pick<DeletionDeps, 'clock' | 'participants' | 'requests' | 'trace'>) =>
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
          changeContextOf(deps, principal),
        );
      },
    });
  };
