import type { DeletionService } from '../../src/app/deletion-service.js';
import type { Authenticator } from '../../src/auth/authenticator.js';
import { DomainError, type ErrorCode } from '../../src/domain/domain-error.js';

/**
 * A DeletionService whose every operation throws what the test put in
 * `thrown.next`, and an authenticator that lets anyone in: for checking how a
 * transport puts each error on the wire.
 */
export const throwingService = (): {
  service: DeletionService;
  authenticate: Authenticator;
  thrown: { next: unknown };
} => {
  const thrown: { next: unknown } = { next: undefined };
  const throwing = async (): Promise<never> => {
    await Promise.resolve();
    throw thrown.next;
  };
  return {
    service: new Proxy({}, { get: () => throwing }) as DeletionService,
    authenticate: () =>
      Promise.resolve({
        actor: { kind: 'USER', id: 'u' },
        scopes: new Set(),
        ownSubjectId: 'u',
        authTime: null,
        amr: [],
      }),
    thrown,
  };
};

/** How long a RESOURCE_EXHAUSTED error of a table test asks the caller to wait. */
export const TABLE_RETRY_DELAY_MS = 2500;

/**
 * The error a table test throws for `code`: with metadata, a cause holding PII,
 * (for INVALID_ARGUMENT) a field, and (for RESOURCE_EXHAUSTED) a retry delay.
 */
export const domainErrorFor = (code: ErrorCode): DomainError =>
  new DomainError({
    code,
    reason: `TEST_${code}`,
    message: `failed with ${code}`,
    metadata: { deletionRequest: 'deletionRequests/r1' },
    fieldViolations:
      code === 'INVALID_ARGUMENT' ? [{ field: 'name', description: 'must be a name' }] : [],
    ...(code === 'RESOURCE_EXHAUSTED' && { retryDelayMs: TABLE_RETRY_DELAY_MS }),
    cause: new Error('secret-cause-text alice@example.com'),
  });

/** What a caller must see of domainErrorFor(code): an INTERNAL error shows nothing of itself. */
export const seenOf = (code: ErrorCode) =>
  code === 'INTERNAL'
    ? { message: 'internal error', reason: 'INTERNAL', metadata: {} }
    : {
        message: `failed with ${code}`,
        reason: `TEST_${code}`,
        metadata: { deletionRequest: 'deletionRequests/r1' },
      };
