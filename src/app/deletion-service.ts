import { checkErasedSubjects } from './admin/check-erased-subjects.js';
import { getSafetyStatus, resumeErasures } from './admin/erasure-breaker.js';
import { listAuditEvents } from './admin/list-audit-events.js';
import { verifyAuditLog } from './admin/verify-audit-log.js';
import type { Operation } from '../domain/authorization.js';
import type { DeletionDeps } from './deletion-deps.js';
import { reportErasureOutcome } from './participants/report-erasure-outcome.js';
import { getLinkedServiceHealth } from './participants/get-linked-service-health.js';
import { listLinkedServices } from './participants/list-linked-services.js';
import { resolveParticipant } from './participants/resolve-participant.js';
import { retryParticipant } from './participants/retry-participant.js';
import { approveDeletion } from './requests/approve-deletion.js';
import { cancelDeletion } from './requests/cancel-deletion.js';
import { confirmDeletion } from './requests/confirm-deletion.js';
import { countDeletionRequests } from './requests/count-deletion-requests.js';
import { extendDeadline } from './requests/extend-deadline.js';
import { getDeletionRequest } from './requests/get-deletion-request.js';
import { getErasurePlan } from './requests/get-erasure-plan.js';
import { getErasureReport } from './requests/get-erasure-report.js';
import { listDeletionRequests } from './requests/list-deletion-requests.js';
import { rejectDeletion } from './requests/reject-deletion.js';
import { requestDeletion } from './requests/request-deletion.js';
import { undeleteDeletionRequest } from './requests/undelete-deletion-request.js';
import { watchDeletionRequest } from './requests/watch-deletion-request.js';

/**
 * Every use case of the service, by name. Each entry is built from the ports
 * it uses and answers `(principal, input)` — a watch also takes the signal
 * that ends it. Each authorizes first (PERMISSION_DENIED before anything is
 * read), validates its input (INVALID_ARGUMENT) and throws only DomainError;
 * its file says what it does and which errors it gives.
 *
 * A new use case is one line here, beside its operation's entry in
 * domain/authorization.ts (the compiler refuses one without the other): the
 * service's type, its span name and the decorators follow from it, and the
 * compiler names each transport's table that lacks it.
 */
const useCases = {
  requestDeletion,
  confirmDeletion,
  approveDeletion,
  rejectDeletion,
  extendDeadline,
  cancelDeletion,
  undeleteDeletionRequest,
  getDeletionRequest,
  watchDeletionRequest,
  listDeletionRequests,
  countDeletionRequests,
  reportErasureOutcome,
  retryParticipant,
  resolveParticipant,
  listLinkedServices,
  getLinkedServiceHealth,
  getErasureReport,
  getErasurePlan,
  listAuditEvents,
  verifyAuditLog,
  getSafetyStatus,
  resumeErasures,
  checkErasedSubjects,
} as const satisfies Readonly<Record<Operation, (deps: DeletionDeps) => unknown>>;

type UseCases = typeof useCases;

/** The domain service both transports call: one method per use case. */
export type DeletionService = { readonly [Name in keyof UseCases]: ReturnType<UseCases[Name]> };

/** The name of one use case. */
export type UseCaseName = keyof DeletionService;

/** What a use case takes after the principal (its input; a watch's signal follows). */
export type InputOf<Name extends UseCaseName> = Parameters<DeletionService[Name]>[1];

/** What a use case answers. */
export type ResultOf<Name extends UseCaseName> = Awaited<ReturnType<DeletionService[Name]>>;

/** Builds the service over its ports: each use case gets the ports it declares. */
export const createDeletionService = (deps: DeletionDeps): DeletionService =>
  Object.fromEntries(
    Object.entries(useCases).map(([name, build]) => [name, build(deps)]),
  ) as unknown as DeletionService;
