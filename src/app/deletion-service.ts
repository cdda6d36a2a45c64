import type { DeletionRequest } from '../domain/deletion-request.js';
import type { SignedErasureReport } from '../domain/erasure-report.js';
import type { Principal } from '../domain/principal.js';
import { listAuditEvents, type AuditPage } from './admin/list-audit-events.js';
import { verifyAuditLog, type AuditVerification } from './admin/verify-audit-log.js';
import { confirmDeletion } from './requests/confirm-deletion.js';
import { checkErasedSubjects, type ErasedSubjectAnswer } from './admin/check-erased-subjects.js';
import { getSafetyStatus, resumeErasures, type SafetyStatus } from './admin/erasure-breaker.js';
import type { DeletionDeps } from './deletion-deps.js';
import type {
  ApproveDeletionInput,
  CancelDeletionInput,
  CheckErasedSubjectsInput,
  ConfirmDeletionInput,
  ExtendDeadlineInput,
  GetDeletionRequestInput,
  ListAuditEventsInput,
  ListDeletionRequestsInput,
  RejectDeletionInput,
  ReportErasureOutcomeInput,
  ResolveParticipantInput,
  RetryParticipantInput,
  RequestDeletionInput,
  ResumeErasuresInput,
  UndeleteDeletionRequestInput,
  WatchDeletionRequestInput,
} from './inputs.js';
import { getDeletionRequest } from './requests/get-deletion-request.js';
import { getErasureReport } from './requests/get-erasure-report.js';
import {
  listDeletionRequests,
  type DeletionRequestPage,
} from './requests/list-deletion-requests.js';
import { reportErasureOutcome } from './participants/report-erasure-outcome.js';
import { resolveParticipant } from './participants/resolve-participant.js';
import { retryParticipant } from './participants/retry-participant.js';
import { extendDeadline } from './requests/extend-deadline.js';
import { requestDeletion } from './requests/request-deletion.js';
import { approveDeletion } from './requests/approve-deletion.js';
import { rejectDeletion } from './requests/reject-deletion.js';
import { watchDeletionRequest, type DeletionEvent } from './requests/watch-deletion-request.js';
import { cancelDeletion } from './requests/cancel-deletion.js';
import { undeleteDeletionRequest } from './requests/undelete-deletion-request.js';

/**
 * The domain service both transports call. Every method authorizes first
 * (PERMISSION_DENIED before anything is read), validates its input
 * (INVALID_ARGUMENT), and throws only DomainError.
 */
export interface DeletionService {
  readonly requestDeletion: (
    principal: Principal,
    input: RequestDeletionInput,
  ) => Promise<DeletionRequest>;
  readonly confirmDeletion: (
    principal: Principal,
    input: ConfirmDeletionInput,
  ) => Promise<DeletionRequest>;
  readonly approveDeletion: (
    principal: Principal,
    input: ApproveDeletionInput,
  ) => Promise<DeletionRequest>;
  readonly rejectDeletion: (
    principal: Principal,
    input: RejectDeletionInput,
  ) => Promise<DeletionRequest>;
  readonly extendDeadline: (
    principal: Principal,
    input: ExtendDeadlineInput,
  ) => Promise<DeletionRequest>;
  readonly cancelDeletion: (
    principal: Principal,
    input: CancelDeletionInput,
  ) => Promise<DeletionRequest>;
  readonly undeleteDeletionRequest: (
    principal: Principal,
    input: UndeleteDeletionRequestInput,
  ) => Promise<DeletionRequest>;
  readonly getDeletionRequest: (
    principal: Principal,
    input: GetDeletionRequestInput,
  ) => Promise<DeletionRequest>;
  /** Follows a request as it changes; see requests/watch-deletion-request.ts. Stops when `signal` aborts. */
  readonly watchDeletionRequest: (
    principal: Principal,
    input: WatchDeletionRequestInput,
    signal: AbortSignal,
  ) => Promise<AsyncIterable<DeletionEvent>>;
  readonly listDeletionRequests: (
    principal: Principal,
    input: ListDeletionRequestsInput,
  ) => Promise<DeletionRequestPage>;
  readonly reportErasureOutcome: (
    principal: Principal,
    input: ReportErasureOutcomeInput,
  ) => Promise<void>;
  readonly retryParticipant: (
    principal: Principal,
    input: RetryParticipantInput,
  ) => Promise<DeletionRequest>;
  readonly getErasureReport: (
    principal: Principal,
    input: GetDeletionRequestInput,
  ) => Promise<SignedErasureReport>;
  readonly resolveParticipant: (
    principal: Principal,
    input: ResolveParticipantInput,
  ) => Promise<DeletionRequest>;
  readonly listAuditEvents: (
    principal: Principal,
    input: ListAuditEventsInput,
  ) => Promise<AuditPage>;
  readonly verifyAuditLog: (principal: Principal, input?: unknown) => Promise<AuditVerification>;
  readonly getSafetyStatus: (principal: Principal, input?: unknown) => Promise<SafetyStatus>;
  readonly resumeErasures: (
    principal: Principal,
    input: ResumeErasuresInput,
  ) => Promise<SafetyStatus>;
  readonly checkErasedSubjects: (
    principal: Principal,
    input: CheckErasedSubjectsInput,
  ) => Promise<ErasedSubjectAnswer[]>;
}

/** Builds the service over its ports. */
export const createDeletionService = (deps: DeletionDeps): DeletionService => {
  const watch = watchDeletionRequest(deps);
  return {
    requestDeletion: requestDeletion(deps),
    confirmDeletion: confirmDeletion(deps),
    approveDeletion: approveDeletion(deps),
    rejectDeletion: rejectDeletion(deps),
    extendDeadline: extendDeadline(deps),
    cancelDeletion: cancelDeletion(deps),
    undeleteDeletionRequest: undeleteDeletionRequest(deps),
    getDeletionRequest: getDeletionRequest(deps),
    watchDeletionRequest: (principal, input, signal) =>
      watch(principal, input, { signal, pollMs: deps.policy.watchPollMs }),
    listDeletionRequests: listDeletionRequests(deps),
    reportErasureOutcome: reportErasureOutcome(deps),
    retryParticipant: retryParticipant(deps),
    resolveParticipant: resolveParticipant(deps),
    getErasureReport: getErasureReport(deps),
    listAuditEvents: listAuditEvents(deps),
    verifyAuditLog: verifyAuditLog(deps),
    getSafetyStatus: getSafetyStatus(deps),
    resumeErasures: resumeErasures(deps),
    checkErasedSubjects: checkErasedSubjects(deps),
  };
};
