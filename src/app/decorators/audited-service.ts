import { authorize, type Operation } from '../../domain/authorization.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { parseDeletionRequestName, type SubjectId } from '../../domain/ids.js';
import type { Principal } from '../../domain/principal.js';
import { auditPrivilegedRead, subjectPseudonymOf } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import type { DeletionService } from '../deletion-service.js';

/** Whether the caller made the request: reading it is reading its own, not beyond. */
const madeBy = (principal: Principal, request: DeletionRequest): boolean =>
  request.requester.kind === principal.actor.kind && request.requester.id === principal.actor.id;

/** Reports an audit append that failed after the action it records was done. */
export interface PrivilegedCallAudit {
  readonly onFailure: (error: unknown, operation: Operation) => void;
}

/** What an administrator did to a request, and the facts the audit keeps of it. */
interface AdminAction {
  readonly operation: Operation;
  readonly request: DeletionRequest;
  readonly details?: Readonly<Record<string, string>>;
}

/**
 * The service, auditing what docs/design.md §4 calls privileged: a read of requests
 * beyond the caller's own (a caller with a reader scope; a subject reading
 * their own request is not, nor is a caller reading a request it made itself,
 * e.g. a service polling the deletion it asked for), and an administrator's action on a request's
 * linked-service steps or its deadline. A read is audited before it is answered, and fails
 * when its event cannot be written; an action is done by then, so a failed
 * append is reported instead. (The audit log's own operations, the breaker's
 * and the ledger's audit themselves.)
 */
export const auditPrivilegedCalls = (
  service: DeletionService,
  deps: Pick<DeletionDeps, 'audit' | 'clock' | 'pseudonymOf' | 'ids'>,
  audit: PrivilegedCallAudit,
): DeletionService => {
  const privileged = (principal: Principal, operation: Operation): boolean =>
    authorize(principal, operation).kind === 'ANY';
  const requestRead = async (
    principal: Principal,
    operation: Operation,
    request: DeletionRequest | { readonly id: string } | undefined,
  ): Promise<void> => {
    if (!privileged(principal, operation)) return;
    await auditPrivilegedRead(deps, principal, {
      operation,
      ...(request && { deletionRequestId: request.id }),
      ...(request !== undefined &&
        'subjectId' in request && {
          subjectPseudonym: subjectPseudonymOf(deps.pseudonymOf, request),
        }),
    });
  };
  const adminAction = (principal: Principal, { operation, request, details = {} }: AdminAction) =>
    deps.audit.log
      .append({
        kind: 'ADMIN_ACTION',
        at: deps.clock.now(),
        actor: principal.actor,
        deletionRequestId: request.id,
        subjectPseudonym: subjectPseudonymOf(deps.pseudonymOf, request),
        details: { ...details, operation },
        key: `admin#${deps.ids.newEventId()}`,
      })
      .catch((error: unknown) => {
        audit.onFailure(error, operation);
      });
  return {
    ...service,
    getDeletionRequest: async (principal, input) => {
      const request = await service.getDeletionRequest(principal, input);
      if (!madeBy(principal, request)) await requestRead(principal, 'getDeletionRequest', request);
      return request;
    },
    getErasureReport: async (principal, input) => {
      const report = await service.getErasureReport(principal, input);
      const id = parseDeletionRequestName(input.name);
      await requestRead(principal, 'getErasureReport', id && { id });
      return report;
    },
    watchDeletionRequest: async (principal, input, signal) => {
      const events = await service.watchDeletionRequest(principal, input, signal);
      const id = parseDeletionRequestName(input.name);
      await requestRead(principal, 'watchDeletionRequest', id && { id });
      return events;
    },
    listDeletionRequests: async (principal, input) => {
      const page = await service.listDeletionRequests(principal, input);
      if (privileged(principal, 'listDeletionRequests'))
        await auditPrivilegedRead(deps, principal, {
          operation: 'listDeletionRequests',
          // What was asked for, as well as how much came back.
          details: {
            returned: String(page.deletionRequests.length),
            ...(input.state !== undefined && { state: input.state }),
            ...(input.jurisdiction !== undefined && { jurisdiction: input.jurisdiction }),
            ...(input.linkedService !== undefined && { linkedService: input.linkedService }),
            ...(input.linkedServiceStep !== undefined && {
              linkedServiceStep: input.linkedServiceStep,
            }),
            ...(input.deadlineBefore instanceof Date && {
              deadlineBefore: input.deadlineBefore.toISOString(),
            }),
          },
          ...(input.subjectId !== undefined && { subjectId: input.subjectId as SubjectId }),
        });
      return page;
    },
    retryParticipant: async (principal, input) => {
      const request = await service.retryParticipant(principal, input);
      await adminAction(principal, { operation: 'retryParticipant', request });
      return request;
    },
    extendDeadline: async (principal, input) => {
      const request = await service.extendDeadline(principal, input);
      const extension = request.deadlineExtension;
      await adminAction(principal, {
        operation: 'extendDeadline',
        request,
        ...(extension && {
          // Not the reason: free text, kept (sealed) on the request, not in the lasting audit log.
          details: {
            previousDeadline: extension.previousDeadline.toISOString(),
            deadline: request.legalDeadline.toISOString(),
          },
        }),
      });
      return request;
    },
    resolveParticipant: async (principal, input) => {
      const request = await service.resolveParticipant(principal, input);
      await adminAction(principal, { operation: 'resolveParticipant', request });
      return request;
    },
  };
};
