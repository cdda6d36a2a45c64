import type { DeletionService } from '../../app/deletion-service.js';
import type { Operation } from '../../domain/authorization.js';
import type { ErasurePlan } from '../../app/requests/get-erasure-plan.js';
import { deletionRequestName } from '../../domain/ids.js';
import {
  ErasurePlan_Blocker,
  ErasurePlan_Call_Action,
  ErasurePlan_LocalErasure,
  LinkedService_Phase,
  LinkedService_SubjectIdForm,
  type DeletionServiceServer,
  type DeletionServiceService,
  type ErasurePlan as ErasurePlanMessage,
} from '../../gen/deletion/v1/deletion_service.js';
import {
  listAuditEventsFromProto,
  toAuditPageProto,
  toErasedSubjectsProto,
  toSafetyProto,
  toVerdictProto,
} from './admin-codec.js';
import { reportFromProto } from './participant-codec.js';
import { optional, stateFromProto, stateToProto, toListResponse, toProto } from './proto-codec.js';
import {
  countsInputFromProto,
  queueFiltersFromProto,
  toCountsProto,
  toHealthProto,
} from './queue-codec.js';
import { unary, type HandlerDeps } from './unary.js';

/** The RPC methods of the service, as the generated definition names them. */
export type DeletionRpc = keyof typeof DeletionServiceService;

/** Which domain operation (and so which authorization policy) each RPC is: a new RPC does not compile without one. */
export const rpcOperations: Readonly<Record<DeletionRpc, Operation>> = {
  requestDeletion: 'requestDeletion',
  confirmDeletion: 'confirmDeletion',
  approveDeletion: 'approveDeletion',
  rejectDeletion: 'rejectDeletion',
  extendDeadline: 'extendDeadline',
  cancelDeletion: 'cancelDeletion',
  undeleteDeletionRequest: 'undeleteDeletionRequest',
  getDeletionRequest: 'getDeletionRequest',
  listDeletionRequests: 'listDeletionRequests',
  countDeletionRequests: 'countDeletionRequests',
  reportErasureOutcome: 'reportErasureOutcome',
  retryParticipant: 'retryParticipant',
  resolveParticipant: 'resolveParticipant',
  getErasureReport: 'getErasureReport',
  getErasurePlan: 'getErasurePlan',
  listLinkedServices: 'listLinkedServices',
  getLinkedServiceHealth: 'getLinkedServiceHealth',
  listAuditEvents: 'listAuditEvents',
  verifyAuditLog: 'verifyAuditLog',
  getSafetyStatus: 'getSafetyStatus',
  resumeErasures: 'resumeErasures',
  checkErasedSubjects: 'checkErasedSubjects',
};

/** A domain name as the enum values of the contract spell it. */
const upper = <Name extends string>(name: Name): Uppercase<Name> =>
  name.toUpperCase() as Uppercase<Name>;

/** A purge's dry run on the wire; its own enums' values are the domain's names with their prefix. */
const toPlanProto = (plan: ErasurePlan): ErasurePlanMessage => ({
  name: deletionRequestName(plan.id),
  state: stateToProto(plan.state),
  blocker: ErasurePlan_Blocker[`BLOCKER_${plan.blocker}`],
  startTime: plan.startAt ?? undefined,
  calls: plan.calls.map((call) => ({
    participant: call.participant,
    action: ErasurePlan_Call_Action[`ACTION_${call.action}`],
    attempts: call.attempts,
    time: call.time ?? undefined,
    waitingFor: [...call.waitingFor],
    lastErrorCode: call.lastErrorCode ?? '',
  })),
  localErasure:
    plan.localErasure === 'first'
      ? ErasurePlan_LocalErasure.LOCAL_ERASURE_FIRST
      : ErasurePlan_LocalErasure.LOCAL_ERASURE_AFTER_LINKED_SERVICES,
  localErasureDone: plan.localErasureDone,
  planTime: plan.plannedAt,
});

/** The DeletionService handlers: decode → use case → encode. */
export const createDeletionHandlers = (
  service: DeletionService,
  deps: HandlerDeps,
): DeletionServiceServer => ({
  requestDeletion: unary(deps, 'RequestDeletion', async (principal, request) =>
    toProto(
      await service.requestDeletion(principal, {
        subjectId: request.subjectId,
        reason: request.reason,
        requestId: optional(request.requestId),
      }),
    ),
  ),
  confirmDeletion: unary(deps, 'ConfirmDeletion', async (principal, request) =>
    toProto(
      await service.confirmDeletion(principal, {
        name: request.name,
        code: optional(request.code),
      }),
    ),
  ),
  approveDeletion: unary(deps, 'ApproveDeletion', async (principal, request) =>
    toProto(
      await service.approveDeletion(principal, {
        name: request.name,
        etag: optional(request.etag),
      }),
    ),
  ),
  rejectDeletion: unary(deps, 'RejectDeletion', async (principal, request) =>
    toProto(
      await service.rejectDeletion(principal, {
        name: request.name,
        etag: optional(request.etag),
        reason: request.reason,
      }),
    ),
  ),
  cancelDeletion: unary(deps, 'CancelDeletion', async (principal, request) =>
    toProto(
      await service.cancelDeletion(principal, { name: request.name, etag: optional(request.etag) }),
    ),
  ),
  undeleteDeletionRequest: unary(deps, 'UndeleteDeletionRequest', async (principal, request) =>
    toProto(
      await service.undeleteDeletionRequest(principal, {
        name: request.name,
        etag: optional(request.etag),
      }),
    ),
  ),
  getDeletionRequest: unary(deps, 'GetDeletionRequest', async (principal, request) =>
    toProto(await service.getDeletionRequest(principal, { name: request.name })),
  ),
  listDeletionRequests: unary(deps, 'ListDeletionRequests', async (principal, request) =>
    toListResponse(
      await service.listDeletionRequests(principal, {
        pageSize: request.pageSize,
        pageToken: optional(request.pageToken),
        state: stateFromProto(request.state),
        subjectId: optional(request.subjectId),
        ...queueFiltersFromProto(request),
        deadlineBefore: request.deadlineBefore,
      }),
    ),
  ),
  countDeletionRequests: unary(deps, 'CountDeletionRequests', async (principal, request) =>
    toCountsProto(await service.countDeletionRequests(principal, countsInputFromProto(request))),
  ),
  reportErasureOutcome: unary(deps, 'ReportErasureOutcome', async (principal, request) => {
    await service.reportErasureOutcome(principal, reportFromProto(request));
    return {};
  }),
  retryParticipant: unary(deps, 'RetryParticipant', async (principal, request) =>
    toProto(
      await service.retryParticipant(principal, {
        name: request.name,
        participant: request.participant,
        etag: optional(request.etag),
      }),
    ),
  ),
  extendDeadline: unary(deps, 'ExtendDeadline', async (principal, request) =>
    toProto(
      await service.extendDeadline(principal, {
        name: request.name,
        reason: request.reason,
        etag: optional(request.etag),
      }),
    ),
  ),
  resolveParticipant: unary(deps, 'ResolveParticipant', async (principal, request) =>
    toProto(
      await service.resolveParticipant(principal, {
        name: request.name,
        participant: request.participant,
        justification: request.justification,
        records: Number(request.records),
        etag: optional(request.etag),
      }),
    ),
  ),
  getErasureReport: unary(deps, 'GetErasureReport', async (principal, request) => {
    const report = await service.getErasureReport(principal, { name: request.name });
    return { name: request.name, ...report };
  }),
  getErasurePlan: unary(deps, 'GetErasurePlan', async (principal, request) =>
    toPlanProto(await service.getErasurePlan(principal, { name: request.name })),
  ),
  listLinkedServices: unary(deps, 'ListLinkedServices', async (principal) => ({
    linkedServices: (await service.listLinkedServices(principal)).map((linked) => ({
      name: linked.name,
      phases: linked.phases.map((phase) => LinkedService_Phase[`PHASE_${upper(phase)}`]),
      after: [...linked.after],
      maxAttempts: linked.maxAttempts,
      subjectIdForm: LinkedService_SubjectIdForm[`SUBJECT_ID_FORM_${upper(linked.subjectIdForm)}`],
      dataCategories: [...linked.categories],
      ownerTeam: linked.owner?.team ?? '',
      ownerAlertsConfigured: linked.owner?.alertsConfigured ?? false,
      legalBasis: linked.legalBasis ?? '',
    })),
  })),
  getLinkedServiceHealth: unary(deps, 'GetLinkedServiceHealth', async (principal) =>
    toHealthProto(await service.getLinkedServiceHealth(principal)),
  ),
  listAuditEvents: unary(deps, 'ListAuditEvents', async (principal, request) =>
    toAuditPageProto(await service.listAuditEvents(principal, listAuditEventsFromProto(request))),
  ),
  verifyAuditLog: unary(deps, 'VerifyAuditLog', async (principal) =>
    toVerdictProto(await service.verifyAuditLog(principal)),
  ),
  getSafetyStatus: unary(deps, 'GetSafetyStatus', async (principal) =>
    toSafetyProto(await service.getSafetyStatus(principal)),
  ),
  resumeErasures: unary(deps, 'ResumeErasures', async (principal, request) =>
    toSafetyProto(
      await service.resumeErasures(principal, { justification: request.justification }),
    ),
  ),
  checkErasedSubjects: unary(deps, 'CheckErasedSubjects', async (principal, request) =>
    toErasedSubjectsProto(
      await service.checkErasedSubjects(principal, {
        participant: request.participant,
        subjectIds: request.subjectIds,
      }),
    ),
  ),
});
