import type { DeletionRequest } from './deletion-request.js';
import type {
  ErasureReportContent,
  LocalErasureCounts,
  RegisteredHoldings,
  ReportedParticipant,
} from './erasure-report.js';
import type { ErasureOutcome, ParticipantSpec } from './erasure-steps.js';
import { deletionRequestName } from './ids.js';

/** Why a service kept data: its answer's legal basis, else the one it registered. */
const keptBecause = (
  outcome: ErasureOutcome | null,
  registered: RegisteredHoldings | null,
): Pick<ReportedParticipant, 'legalBasis' | 'legalBasisSource'> => {
  if (outcome?.kind !== 'RETAINED') return { legalBasis: null, legalBasisSource: null };
  if (outcome.legalBasis.trim() !== '')
    return { legalBasis: outcome.legalBasis, legalBasisSource: 'ANSWER' };
  return registered?.legalBasis != null
    ? { legalBasis: registered.legalBasis, legalBasisSource: 'REGISTRATION' }
    : { legalBasis: null, legalBasisSource: null };
};

/** What a registration says the service holds (null: not registered). */
const holdingsOf = (spec: ParticipantSpec | undefined): RegisteredHoldings | null =>
  spec === undefined
    ? null
    : {
        team: spec.owner?.team ?? null,
        categories: [...(spec.categories ?? [])],
        legalBasis: spec.legalBasis ?? null,
      };

const participantEntry = (
  [name, step]: [string, DeletionRequest['participants'][string]],
  specs: readonly ParticipantSpec[],
): ReportedParticipant => {
  const outcome = step.outcome;
  const registered = holdingsOf(specs.find((spec) => spec.name === name));
  return {
    name,
    outcome: outcome?.kind ?? 'NONE',
    records:
      outcome?.kind === 'ERASED' || outcome?.kind === 'MANUAL'
        ? outcome.records
        : outcome?.kind === 'RETAINED'
          ? outcome.erasedRecords
          : 0,
    categories:
      outcome?.kind === 'ERASED' || outcome?.kind === 'RETAINED' ? [...outcome.categories] : [],
    ...keptBecause(outcome, registered),
    retainedUntil: outcome?.kind === 'RETAINED' ? (outcome.until?.toISOString() ?? null) : null,
    justification:
      outcome?.kind === 'MANUAL' ? `${outcome.resolvedBy}: ${outcome.justification}` : null,
    answeredAt: step.updatedAt.toISOString(),
    registered,
  };
};

/**
 * The report of a request that is being completed now, with what was erased
 * locally and the linked services as registered now (`specs`): per service,
 * what it erased, what it kept and why, and what it holds as registered.
 */
export const erasureReportContent = (
  request: DeletionRequest,
  local: LocalErasureCounts,
  at: { readonly completedAt: Date; readonly specs: readonly ParticipantSpec[] },
): ErasureReportContent => ({
  version: 2,
  deletionRequest: deletionRequestName(request.id),
  subjectId: request.subjectId,
  jurisdiction: request.jurisdiction,
  requestedAt: request.createdAt.toISOString(),
  legalDeadline: request.legalDeadline.toISOString(),
  completedAt: at.completedAt.toISOString(),
  local,
  participants: Object.entries(request.participants)
    .sort(([a], [b]) => a.localeCompare(b))
    .map((entry) => participantEntry(entry, at.specs)),
});
