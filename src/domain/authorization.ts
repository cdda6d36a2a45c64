import { DomainError } from './domain-error.js';
import type { Principal, Scope } from './principal.js';
import type { PrincipalLimit } from './rate-limits.js';

/**
 * Who may call an operation: scopes that reach any subject, and whether
 * `deletion:self` reaches its own; and the budget each call spends.
 */
export interface OperationPolicy {
  readonly anySubject: readonly Scope[];
  readonly ownSubject: boolean;
  readonly rateLimit: PrincipalLimit;
}

const readers: readonly Scope[] = [
  'deletion:read',
  'deletion:request',
  'deletion:approve',
  'deletion:admin',
];

/**
 * Every operation of the DeletionService, with who may call it and the budget
 * it spends. Deny by default: a use case authorizes by its operation's name,
 * and a name without an entry here does not compile.
 */
export const operationPolicies = {
  requestDeletion: {
    anySubject: ['deletion:request', 'deletion:admin'],
    ownSubject: true,
    rateLimit: 'mutation',
  },
  confirmDeletion: { anySubject: ['deletion:request'], ownSubject: true, rateLimit: 'mutation' },
  approveDeletion: { anySubject: ['deletion:approve'], ownSubject: false, rateLimit: 'mutation' },
  rejectDeletion: { anySubject: ['deletion:approve'], ownSubject: false, rateLimit: 'mutation' },
  extendDeadline: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'mutation' },
  cancelDeletion: {
    anySubject: ['deletion:request', 'deletion:admin'],
    ownSubject: true,
    rateLimit: 'mutation',
  },
  undeleteDeletionRequest: {
    anySubject: ['deletion:request', 'deletion:admin'],
    ownSubject: true,
    rateLimit: 'mutation',
  },
  getDeletionRequest: { anySubject: readers, ownSubject: true, rateLimit: 'read' },
  watchDeletionRequest: { anySubject: readers, ownSubject: true, rateLimit: 'read' },
  listDeletionRequests: { anySubject: readers, ownSubject: true, rateLimit: 'read' },
  countDeletionRequests: { anySubject: readers, ownSubject: false, rateLimit: 'read' },
  reportErasureOutcome: {
    anySubject: ['deletion:participant'],
    ownSubject: false,
    rateLimit: 'participant',
  },
  retryParticipant: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'mutation' },
  resolveParticipant: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'mutation' },
  getErasureReport: { anySubject: readers, ownSubject: true, rateLimit: 'read' },
  getErasurePlan: { anySubject: readers, ownSubject: false, rateLimit: 'read' },
  listLinkedServices: { anySubject: readers, ownSubject: false, rateLimit: 'read' },
  getLinkedServiceHealth: { anySubject: readers, ownSubject: false, rateLimit: 'read' },
  listAuditEvents: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'read' },
  verifyAuditLog: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'read' },
  getSafetyStatus: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'read' },
  resumeErasures: { anySubject: ['deletion:admin'], ownSubject: false, rateLimit: 'mutation' },
  checkErasedSubjects: {
    anySubject: ['deletion:participant'],
    ownSubject: false,
    rateLimit: 'participant',
  },
} as const satisfies Readonly<Record<string, OperationPolicy>>;

/** One operation of the service. */
export type Operation = keyof typeof operationPolicies;

/** Every operation, in the order of the table above. */
export const operations = Object.keys(operationPolicies) as Operation[];

/** How far a caller reaches for one operation. */
export type Reach = { readonly kind: 'ANY' } | { readonly kind: 'OWN'; readonly subjectId: string };

const denied = (operation: Operation): DomainError =>
  new DomainError({
    code: 'PERMISSION_DENIED',
    reason: 'PERMISSION_DENIED',
    message: `not allowed to ${operation}`,
    metadata: { operation },
  });

/** Whether a scope of the principal lets it call the operation on any subject. */
export const reachesAnySubject = (principal: Principal, operation: Operation): boolean =>
  operationPolicies[operation].anySubject.some((scope: Scope) => principal.scopes.has(scope));

/** The operations the principal may call on any subject (what a tool may offer it). */
export const operationsOnAnySubject = (principal: Principal): Operation[] =>
  operations.filter((operation) => reachesAnySubject(principal, operation));

/**
 * Function-level check, before anything is read. Throws PERMISSION_DENIED
 * (`PERMISSION_DENIED`) when no scope of the principal allows the operation.
 */
export const authorize = (principal: Principal, operation: Operation): Reach => {
  if (reachesAnySubject(principal, operation)) return { kind: 'ANY' };
  if (
    operationPolicies[operation].ownSubject &&
    principal.scopes.has('deletion:self') &&
    principal.ownSubjectId
  ) {
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
