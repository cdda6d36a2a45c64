import { finalOutcomeFromProto } from '../../codec/erasure-outcome.js';
import type { ReportErasureOutcomeInput } from '../../app/inputs.js';
import type { ParticipantStep, StepStatus } from '../../domain/erasure-steps.js';
import {
  ParticipantProgress_Status,
  type ParticipantProgress,
} from '../../gen/deletion/v1/deletion_request.js';
import type { ReportErasureOutcomeRequest } from '../../gen/deletion/v1/deletion_service.js';

const statuses: Readonly<Record<StepStatus, ParticipantProgress_Status>> = {
  PENDING: ParticipantProgress_Status.STATUS_PENDING,
  RETRYING: ParticipantProgress_Status.STATUS_RETRYING,
  ACCEPTED: ParticipantProgress_Status.STATUS_ACCEPTED,
  DONE: ParticipantProgress_Status.STATUS_DONE,
  FAILED: ParticipantProgress_Status.STATUS_FAILED,
};

const outcomeFields = (step: ParticipantStep) => {
  const outcome = step.outcome;
  switch (outcome?.kind) {
    case 'ERASED':
      return {
        outcome: outcome.kind,
        records: String(outcome.records),
        categories: [...outcome.categories],
      };
    case 'NOTHING_FOUND':
      return { outcome: outcome.kind };
    case 'RETAINED':
      return {
        outcome: outcome.kind,
        records: String(outcome.erasedRecords),
        categories: [...outcome.categories],
        legalBasis: outcome.legalBasis,
        retainedUntil: outcome.until ?? undefined,
      };
    case 'MANUAL':
      return {
        outcome: outcome.kind,
        records: String(outcome.records),
        justification: `${outcome.resolvedBy}: ${outcome.justification}`,
      };
    case undefined:
      return {};
  }
};

/** One participant's step → ParticipantProgress. */
export const progressToProto = (
  participant: string,
  step: ParticipantStep,
): Partial<ParticipantProgress> => ({
  participant,
  status: statuses[step.status],
  attempts: step.attempts,
  lastErrorCode: step.lastErrorCode ?? '',
  nextAttemptTime: step.nextAttemptAt ?? undefined,
  expectedBy: step.expectedBy ?? undefined,
  updateTime: step.updatedAt,
  ...outcomeFields(step),
});

/** ReportErasureOutcome → the use case's input (a missing outcome fails its validation). */
export const reportFromProto = (
  request: ReportErasureOutcomeRequest,
): ReportErasureOutcomeInput => {
  const base = {
    name: request.name,
    participant: request.participant,
    subjectId: request.subjectId,
  };
  return request.outcome === undefined
    ? (base as ReportErasureOutcomeInput)
    : { ...base, outcome: finalOutcomeFromProto(request.outcome) };
};
