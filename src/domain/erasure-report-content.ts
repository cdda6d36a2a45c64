import type { DeletionRequest } from './deletion-request.js';
import type { ErasureReportContent, LocalErasureCounts } from './erasure-report.js';
import { deletionRequestName } from './ids.js';

const participantEntry = ([name, step]: [string, DeletionRequest['participants'][string]]) => {
  const outcome = step.outcome;
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
    legalBasis: outcome?.kind === 'RETAINED' ? outcome.legalBasis : null,
    retainedUntil: outcome?.kind === 'RETAINED' ? (outcome.until?.toISOString() ?? null) : null,
    justification:
      outcome?.kind === 'MANUAL' ? `${outcome.resolvedBy}: ${outcome.justification}` : null,
    answeredAt: step.updatedAt.toISOString(),
  };
};

/** The report of a request that is being completed now, with what was erased locally. */
export const erasureReportContent = (
  request: DeletionRequest,
  local: LocalErasureCounts,
  completedAt: Date,
): ErasureReportContent => ({
  version: 1,
  deletionRequest: deletionRequestName(request.id),
  subjectId: request.subjectId,
  jurisdiction: request.jurisdiction,
  requestedAt: request.createdAt.toISOString(),
  legalDeadline: request.legalDeadline.toISOString(),
  completedAt: completedAt.toISOString(),
  local,
  participants: Object.entries(request.participants)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(participantEntry),
});
