import type { DeletionService } from '../app/deletion-service.js';
import type { Principal } from '../domain/principal.js';
import { withSpan } from './with-span.js';
import { attributeKeys, useCaseSpans } from '../app/telemetry-catalogue.js';

/** A span name for every use case: the compiler refuses a service without one. */
const useCaseSpanNames: Readonly<Record<keyof DeletionService, string>> = useCaseSpans;

/**
 * Wraps every use case in a span. Attributes say what kind of caller acted,
 * never who the subject is (ids of people appear only as pseudonyms, later).
 */
export const traceDeletionService = (service: DeletionService): DeletionService => {
  const wrap =
    <TInput, TOutput>(
      key: keyof DeletionService,
      call: (principal: Principal, input: TInput) => Promise<TOutput>,
    ) =>
    (principal: Principal, input: TInput): Promise<TOutput> =>
      withSpan(useCaseSpanNames[key], { [attributeKeys.actorKind]: principal.actor.kind }, () =>
        call(principal, input),
      );
  return {
    requestDeletion: wrap('requestDeletion', service.requestDeletion),
    confirmDeletion: wrap('confirmDeletion', service.confirmDeletion),
    approveDeletion: wrap('approveDeletion', service.approveDeletion),
    rejectDeletion: wrap('rejectDeletion', service.rejectDeletion),
    cancelDeletion: wrap('cancelDeletion', service.cancelDeletion),
    undeleteDeletionRequest: wrap('undeleteDeletionRequest', service.undeleteDeletionRequest),
    getDeletionRequest: wrap('getDeletionRequest', service.getDeletionRequest),
    // The span covers authorization and the first read; the events that follow are not one operation.
    watchDeletionRequest: (principal, input, signal) =>
      withSpan(
        useCaseSpanNames.watchDeletionRequest,
        { [attributeKeys.actorKind]: principal.actor.kind },
        () => service.watchDeletionRequest(principal, input, signal),
      ),
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
