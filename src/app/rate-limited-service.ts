import { operationPolicies, type Operation } from '../domain/authorization.js';
import type { Principal } from '../domain/principal.js';
import type { DeletionService } from './deletion-service.js';
import type { RateLimiter } from './ports.js';
import { principalKey, spendBudget, type OnLimiterDown } from './spend-budget.js';

/**
 * Every call spends a point of its principal's budget for the operation's
 * class (`operationPolicies`) before the use case runs, so both transports
 * limit alike. The budget is the caller's, whatever the call turns out to be.
 */
export const rateLimitDeletionService = (
  service: DeletionService,
  deps: { readonly limiter: RateLimiter; readonly onDown?: OnLimiterDown },
): DeletionService => {
  const spend = (operation: Operation, principal: Principal): Promise<void> =>
    spendBudget(deps.limiter, {
      limit: operationPolicies[operation].rateLimit,
      key: principalKey(principal),
      ...(deps.onDown && { onDown: deps.onDown }),
    });
  const wrap =
    <TInput, TOutput>(
      operation: Operation,
      call: (principal: Principal, input: TInput) => Promise<TOutput>,
    ) =>
    async (principal: Principal, input: TInput): Promise<TOutput> => {
      await spend(operation, principal);
      return call(principal, input);
    };
  return {
    requestDeletion: wrap('requestDeletion', service.requestDeletion),
    confirmDeletion: wrap('confirmDeletion', service.confirmDeletion),
    approveDeletion: wrap('approveDeletion', service.approveDeletion),
    rejectDeletion: wrap('rejectDeletion', service.rejectDeletion),
    cancelDeletion: wrap('cancelDeletion', service.cancelDeletion),
    undeleteDeletionRequest: wrap('undeleteDeletionRequest', service.undeleteDeletionRequest),
    getDeletionRequest: wrap('getDeletionRequest', service.getDeletionRequest),
    watchDeletionRequest: async (principal, input, signal) => {
      await spend('watchDeletionRequest', principal);
      return service.watchDeletionRequest(principal, input, signal);
    },
    listDeletionRequests: wrap('listDeletionRequests', service.listDeletionRequests),
    reportErasureOutcome: wrap('reportErasureOutcome', service.reportErasureOutcome),
    retryParticipant: wrap('retryParticipant', service.retryParticipant),
    resolveParticipant: wrap('resolveParticipant', service.resolveParticipant),
    getErasureReport: wrap('getErasureReport', service.getErasureReport),
    listAuditEvents: wrap('listAuditEvents', service.listAuditEvents),
    verifyAuditLog: wrap('verifyAuditLog', service.verifyAuditLog),
    getSafetyStatus: wrap('getSafetyStatus', service.getSafetyStatus),
    resumeErasures: wrap('resumeErasures', service.resumeErasures),
    checkErasedSubjects: wrap('checkErasedSubjects', service.checkErasedSubjects),
  };
};
