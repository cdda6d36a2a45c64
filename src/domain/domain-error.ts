/**
 * The closed list of error codes (gRPC canonical names). Each transport maps every
 * code with one total table, so a new code does not compile until both map it.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

/** One invalid input field (AIP-193 `BadRequest.FieldViolation`). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** What a DomainError is made of. `metadata` holds ids only, never personal data. */
export interface DomainErrorInit {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly message: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly fieldViolations?: readonly FieldViolation[];
  /** How long the caller should wait before trying again (RESOURCE_EXHAUSTED); sent as RetryInfo / Retry-After. */
  readonly retryDelayMs?: number;
  readonly cause?: unknown;
}

/**
 * The one error type of the service. `reason` is a stable UPPER_SNAKE identifier
 * (AIP-193); `cause` is kept for logs and never sent on the wire.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: ErrorCode;
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly FieldViolation[];
  readonly retryDelayMs: number | undefined;

  constructor(init: DomainErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.reason = init.reason;
    this.metadata = init.metadata ?? {};
    this.fieldViolations = init.fieldViolations ?? [];
    this.retryDelayMs = init.retryDelayMs;
  }

  /** True for any DomainError, also across module copies. */
  static is(value: unknown): value is DomainError {
    return value instanceof DomainError;
  }

  /** Returns a DomainError as is; wraps anything else as INTERNAL, keeping it as `cause`. */
  static from(value: unknown): DomainError {
    if (DomainError.is(value)) return value;
    return new DomainError({
      code: 'INTERNAL',
      reason: 'INTERNAL',
      message: 'internal error',
      cause: value,
    });
  }
}

/** A failure of the service (or what it depends on), as opposed to a call it refused. */
export const isFault = (code: ErrorCode): boolean =>
  code === 'INTERNAL' || code === 'UNAVAILABLE' || code === 'DEADLINE_EXCEEDED';

/**
 * What a caller may see of an error: itself, except that an INTERNAL error
 * (whatever its reason and message say about the inside) says only `internal
 * error`. Every transport encodes this, never the error itself.
 */
export const forCaller = (error: DomainError): DomainError =>
  error.code === 'INTERNAL'
    ? new DomainError({ code: 'INTERNAL', reason: 'INTERNAL', message: 'internal error' })
    : error;

/** INVALID_ARGUMENT with field violations (`reason` INVALID_ARGUMENT). */
export const invalidArgument = (violations: readonly FieldViolation[]): DomainError =>
  new DomainError({
    code: 'INVALID_ARGUMENT',
    reason: 'INVALID_ARGUMENT',
    message: `invalid argument: ${violations.map((v) => v.field).join(', ')}`,
    fieldViolations: violations,
  });

/** FAILED_PRECONDITION for an operation the current state does not allow. */
export const invalidState = (operation: string, state: string, id: string): DomainError =>
  new DomainError({
    code: 'FAILED_PRECONDITION',
    reason: 'INVALID_STATE',
    message: `cannot ${operation} a deletion request in state ${state}`,
    metadata: { deletionRequest: id, state },
  });

/** NOT_FOUND for a request a caller with broad reach asked for. */
export const deletionRequestNotFound = (id: string): DomainError =>
  new DomainError({
    code: 'NOT_FOUND',
    reason: 'DELETION_REQUEST_NOT_FOUND',
    message: 'deletion request not found',
    metadata: { deletionRequest: id },
  });

/**
 * ABORTED `CONCURRENT_UPDATE`: a write that lost every try to other writers
 * of the request (`what` says which write; the caller may retry).
 */
export const concurrentUpdate = (what: string, id?: string): DomainError =>
  new DomainError({
    code: 'ABORTED',
    reason: 'CONCURRENT_UPDATE',
    message: what,
    ...(id !== undefined && { metadata: { deletionRequest: id } }),
  });

/**
 * ABORTED with `reason`: the request conflicts with a stored one (an insert
 * that met another, an active request of the same subject). The repository's
 * contract: its adapter and its fake refuse alike.
 */
export const deletionRequestConflict = (reason: string, id: string): DomainError =>
  new DomainError({
    code: 'ABORTED',
    reason,
    message: 'the deletion request conflicts with a stored one; retry',
    metadata: { deletionRequest: id },
  });

/** INTERNAL `VERSION_SKIPPED`: a write of a request that does not move it exactly one version (a bug). */
export const versionSkipped = (): DomainError =>
  new DomainError({
    code: 'INTERNAL',
    reason: 'VERSION_SKIPPED',
    message: 'a change moves one version',
  });

/** FAILED_PRECONDITION with a specific reason, about one request. */
export const preconditionFailed = (
  reason: string,
  message: string,
  deletionRequest: string,
): DomainError =>
  new DomainError({ code: 'FAILED_PRECONDITION', reason, message, metadata: { deletionRequest } });
