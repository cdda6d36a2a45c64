import { DomainError } from './domain-error.js';
import type { Principal, Scope } from './principal.js';

/** Every operation of the DeletionService; each transport maps its calls onto these. */
export const operations = [
  'requestDeletion',
  'confirmDeletion',
  'approveDeletion',
  'rejectDeletion',
  'cancelDeletion',
  'undeleteDeletionRequest',
  'getDeletionRequest',
  'watchDeletionRequest',
  'listDeletionRequests',
  'reportErasureOutcome',
  'retryParticipant',
  'resolveParticipant',
  'getErasureReport',
  'listAuditEvents',
  'verifyAuditLog',
  'getSafetyStatus',
  'resumeErasures',
  'checkErasedSubjects',
] as const;

/** One operation of the service. */
export type Operation = (typeof operations)[number];

/** Who may call an operation: scopes that reach any subject, and whether `deletion:self` reaches its own. */
export interface OperationPolicy {
  readonly anySubject: readonly Scope[];
  readonly ownSubject: boolean;
}

const readers: readonly Scope[] = [
  'deletion:read',
  'deletion:request',
  'deletion:approve',
  'deletion:admin',
];

/** Deny by default: an operation without an entry here does not compile. */
export const operationPolicies: Readonly<Record<Operation, OperationPolicy>> = {
  requestDeletion: { anySubject: ['deletion:request', 'deletion:admin'], ownSubject: true },
  confirmDeletion: { anySubject: ['deletion:request'], ownSubject: true },
  approveDeletion: { anySubject: ['deletion:approve'], ownSubject: false },
  rejectDeletion: { anySubject: ['deletion:approve'], ownSubject: false },
  cancelDeletion: { anySubject: ['deletion:request', 'deletion:admin'], ownSubject: true },
  undeleteDeletionRequest: {
    anySubject: ['deletion:request', 'deletion:admin'],
    ownSubject: true,
  },
  getDeletionRequest: { anySubject: readers, ownSubject: true },
  watchDeletionRequest: { anySubject: readers, ownSubject: true },
  listDeletionRequests: { anySubject: readers, ownSubject: true },
  reportErasureOutcome: { anySubject: ['deletion:participant'], ownSubject: false },
  retryParticipant: { anySubject: ['deletion:admin'], ownSubject: false },
  resolveParticipant: { anySubject: ['deletion:admin'], ownSubject: false },
  getErasureReport: { anySubject: readers, ownSubject: true },
  listAuditEvents: { anySubject: ['deletion:admin'], ownSubject: false },
  verifyAuditLog: { anySubject: ['deletion:admin'], ownSubject: false },
  getSafetyStatus: { anySubject: ['deletion:admin'], ownSubject: false },
  resumeErasures: { anySubject: ['deletion:admin'], ownSubject: false },
  checkErasedSubjects: { anySubject: ['deletion:participant'], ownSubject: false },
};

/** How far a caller reaches for one operation. */
export type Reach = { readonly kind: 'ANY' } | { readonly kind: 'OWN'; readonly subjectId: string };

const denied = (operation: Operation): DomainError =>
  new DomainError({
    code: 'PERMISSION_DENIED',
    reason: 'PERMISSION_DENIED',
    message: `not allowed to ${operation}`,
    metadata: { operation },
  });

/**
 * Function-level check, before anything is read. Throws PERMISSION_DENIED
 * (`PERMISSION_DENIED`) when no scope of the principal allows the operation.
 */
export const authorize = (principal: Principal, operation: Operation): Reach => {
  const policy = operationPolicies[operation];
  if (policy.anySubject.some((scope) => principal.scopes.has(scope))) return { kind: 'ANY' };
  if (policy.ownSubject && principal.scopes.has('deletion:self') && principal.ownSubjectId) {
    return { kind: 'OWN', subjectId: principal.ownSubjectId };
  }
  throw denied(operation);
};

/**
 * Object-level check. A subject outside the caller's reach, or a request that
 * does not exist, both give PERMISSION_DENIED, so the answer reveals nothing.
 */
export const assertReaches = (
  reach: Reach,
  subjectId: string | undefined,
  operation: Operation,
): void => {
  if (reach.kind === 'OWN' && subjectId !== reach.subjectId) throw denied(operation);
};
