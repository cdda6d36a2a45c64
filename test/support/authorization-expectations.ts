import type { InputOf } from '../../src/app/deletion-service.js';
import type { Operation } from '../../src/domain/authorization.js';
import type { DeletionState } from '../../src/domain/deletion-state.js';

/** Outcomes by canonical code name: every layer is held to one table. */
export const OK = 'OK';
export const DENIED = 'PERMISSION_DENIED';
/** `OK`, or the canonical name of the code the call failed with. */
export type Outcome = string;

/**
 * The authenticated callers of the matrix: a user with `deletion:self` (on
 * their own subject, and a stranger), a service with `deletion:request` and
 * `deletion:read`, an approver (`deletion:approve`, `deletion:read`), an
 * administrator (`deletion:admin`).
 */
export const roles = ['selfUser', 'otherUser', 'service', 'approver', 'admin'] as const;
export type Role = (typeof roles)[number];

const ADMIN_ONLY: Record<Role, [Outcome, Outcome]> = {
  selfUser: [DENIED, DENIED],
  otherUser: [DENIED, DENIED],
  service: [DENIED, DENIED],
  approver: [DENIED, DENIED],
  admin: [OK, OK],
};

/**
 * Who may do what: the expected outcome per operation and role, for [the
 * role's own subject, another subject]. Written out by hand, apart from
 * src/domain/authorization.ts, so a change of a policy fails here.
 */
export const expectedAccess: Record<Operation, Record<Role, [Outcome, Outcome]>> = {
  requestDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  confirmDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [DENIED, DENIED],
  },
  approveDeletion: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [OK, OK],
    admin: [DENIED, DENIED],
  },
  rejectDeletion: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [OK, OK],
    admin: [DENIED, DENIED],
  },
  extendDeadline: ADMIN_ONLY,
  cancelDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  undeleteDeletionRequest: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  getDeletionRequest: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  watchDeletionRequest: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  listDeletionRequests: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  // The queue in numbers names no subject: for the people who run deletions.
  countDeletionRequests: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  // Only a linked service's own identity may report (test/e2e/participant-operations.test.ts).
  reportErasureOutcome: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [DENIED, DENIED],
  },
  retryParticipant: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  // Not the subject's: it shows the pipeline (breaker, leases), not their data.
  getErasurePlan: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  // The registry names services, never a subject: for the people who run deletions.
  listLinkedServices: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  // Like the registry: services and counts, never a subject.
  getLinkedServiceHealth: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  getErasureReport: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  resolveParticipant: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  // The audit log and the breaker are the administrators' alone; none of them names a subject.
  listAuditEvents: ADMIN_ONLY,
  verifyAuditLog: ADMIN_ONLY,
  getSafetyStatus: ADMIN_ONLY,
  resumeErasures: ADMIN_ONLY,
  // Only a linked service's own identity may ask (test/e2e/erased-subjects.test.ts).
  checkErasedSubjects: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [DENIED, DENIED],
  },
};

/** The request (or subject) a cell of the matrix acts on. */
export interface MatrixTarget {
  readonly subjectId: string;
  /** `deletionRequests/{id}`, or '' for an operation on no request. */
  readonly name: string;
  /** The request's one-time code, as the subject was sent it. */
  readonly code: string;
}

/**
 * The state of the request each operation on one acts on in the matrix (an
 * operation not listed acts on none): one the operation can be allowed on.
 */
export const matrixStates: Partial<Record<Operation, DeletionState>> = {
  confirmDeletion: 'REQUESTED',
  approveDeletion: 'AWAITING_APPROVAL',
  rejectDeletion: 'AWAITING_APPROVAL',
  extendDeadline: 'REQUESTED',
  cancelDeletion: 'REQUESTED',
  undeleteDeletionRequest: 'SCHEDULED',
  getDeletionRequest: 'REQUESTED',
  watchDeletionRequest: 'COMPLETED',
  reportErasureOutcome: 'ERASING',
  retryParticipant: 'NEEDS_ATTENTION',
  resolveParticipant: 'NEEDS_ATTENTION',
  getErasureReport: 'COMPLETED',
  getErasurePlan: 'REQUESTED',
};

/** The linked service the matrix's services register, and its requests' steps name. */
export const MATRIX_PARTICIPANT = 'matrix-svc';

/** What each operation is called with in the matrix, as the domain service and tRPC take it. */
export const matrixInputs: { readonly [Op in Operation]: (target: MatrixTarget) => InputOf<Op> } = {
  requestDeletion: ({ subjectId }) => ({ subjectId }),
  confirmDeletion: ({ name, code }) => ({ name, code }),
  approveDeletion: ({ name }) => ({ name }),
  rejectDeletion: ({ name }) => ({ name, reason: 'matrix' }),
  extendDeadline: ({ name }) => ({ name, reason: 'matrix: complex request' }),
  cancelDeletion: ({ name }) => ({ name }),
  undeleteDeletionRequest: ({ name }) => ({ name }),
  getDeletionRequest: ({ name }) => ({ name }),
  watchDeletionRequest: ({ name }) => ({ name }),
  listDeletionRequests: ({ subjectId }) => ({ subjectId }),
  countDeletionRequests: () => ({ dueWithinDays: 7 }),
  reportErasureOutcome: ({ name, subjectId }) => ({
    name,
    participant: MATRIX_PARTICIPANT,
    subjectId,
    outcome: { kind: 'NOTHING_FOUND' },
  }),
  retryParticipant: ({ name }) => ({ name, participant: MATRIX_PARTICIPANT }),
  resolveParticipant: ({ name }) => ({
    name,
    participant: MATRIX_PARTICIPANT,
    justification: 'erased by hand, ticket OPS-1',
    records: 1,
  }),
  getErasureReport: ({ name }) => ({ name }),
  getErasurePlan: ({ name }) => ({ name }),
  listLinkedServices: () => undefined,
  getLinkedServiceHealth: () => undefined,
  listAuditEvents: () => ({ pageSize: 1 }),
  verifyAuditLog: () => undefined,
  getSafetyStatus: () => undefined,
  resumeErasures: () => ({ justification: 'matrix: nothing is paused' }),
  checkErasedSubjects: ({ subjectId }) => ({
    participant: MATRIX_PARTICIPANT,
    subjectIds: [subjectId],
  }),
};
