import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODE_NUMBER } from '@trpc/server/rpc';
import {
  DomainError,
  forCaller,
  type ErrorCode,
  type FieldViolation,
} from '../../domain/domain-error.js';

/** Total mapping: a new ErrorCode does not compile until it is mapped here (and for gRPC). */
export const trpcCodeOf: Readonly<Record<ErrorCode, TRPC_ERROR_CODE_KEY>> = {
  INVALID_ARGUMENT: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  PERMISSION_DENIED: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'CONFLICT',
  FAILED_PRECONDITION: 'PRECONDITION_FAILED',
  ABORTED: 'CONFLICT',
  RESOURCE_EXHAUSTED: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  DEADLINE_EXCEEDED: 'TIMEOUT',
  UNIMPLEMENTED: 'NOT_IMPLEMENTED',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** Errors tRPC raises itself, before any procedure runs, in the service's vocabulary. */
const ownErrors: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  PARSE_ERROR: 'INVALID_ARGUMENT',
  BAD_REQUEST: 'INVALID_ARGUMENT',
  PAYLOAD_TOO_LARGE: 'INVALID_ARGUMENT',
  UNSUPPORTED_MEDIA_TYPE: 'INVALID_ARGUMENT',
  METHOD_NOT_SUPPORTED: 'UNIMPLEMENTED',
  NOT_FOUND: 'UNIMPLEMENTED',
  CLIENT_CLOSED_REQUEST: 'UNAVAILABLE',
  TIMEOUT: 'DEADLINE_EXCEEDED',
};

/** The `data` of every tRPC error of this service: branch on `status` and `reason`, never on `message`. */
export interface DeletionErrorData {
  /** The tRPC code, e.g. `PRECONDITION_FAILED`. */
  readonly code: TRPC_ERROR_CODE_KEY;
  readonly httpStatus: number;
  /** The procedure, e.g. `cancelDeletion`. */
  readonly path: string | undefined;
  /** The service's error code, as gRPC names it, e.g. `FAILED_PRECONDITION`. */
  readonly status: ErrorCode;
  /** Stable UPPER_SNAKE reason, e.g. `INVALID_STATE` (the gRPC ErrorInfo reason). */
  readonly reason: string;
  /** Ids that help, e.g. `{ deletionRequest }`; never personal data. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Invalid input fields (camelCase paths) and what is wrong with each. */
  readonly fieldErrors: Readonly<Record<string, readonly string[]>>;
}

/** A DomainError as the TRPCError that carries it (the formatter reads it back from `cause`). */
export const toTRPCError = (error: DomainError): TRPCError =>
  new TRPCError({ code: trpcCodeOf[error.code], message: error.message, cause: error });

/**
 * The `Retry-After` of a response (whole seconds, RFC 9110): the longest wait
 * any of its errors asks for; undefined when none does.
 */
export const retryAfterOf = (errors: readonly TRPCError[]): string | undefined => {
  const delays = errors.flatMap((error) =>
    DomainError.is(error.cause) && error.cause.retryDelayMs !== undefined
      ? [error.cause.retryDelayMs]
      : [],
  );
  return delays.length === 0 ? undefined : String(Math.ceil(Math.max(...delays) / 1000));
};

const fieldErrorsOf = (violations: readonly FieldViolation[]): Record<string, string[]> => {
  const grouped: Record<string, string[]> = {};
  for (const { field, description } of violations) (grouped[field] ??= []).push(description);
  return grouped;
};

/**
 * What the client sees of an error: code, reason, metadata and field errors;
 * never a stack or a cause, nor anything of an INTERNAL error.
 */
export const formatError = (shape: {
  readonly message: string;
  readonly code: TRPC_ERROR_CODE_NUMBER;
  readonly data: {
    readonly code: TRPC_ERROR_CODE_KEY;
    readonly httpStatus: number;
    readonly path?: string;
  };
  readonly cause: unknown;
}): { message: string; code: TRPC_ERROR_CODE_NUMBER; data: DeletionErrorData } => {
  const domain = DomainError.is(shape.cause) ? forCaller(shape.cause) : undefined;
  const internal = shape.data.code === 'INTERNAL_SERVER_ERROR';
  return {
    message: domain?.message ?? (internal ? 'internal error' : shape.message),
    code: shape.code,
    data: {
      code: shape.data.code,
      httpStatus: shape.data.httpStatus,
      path: shape.data.path,
      status: domain?.code ?? ownErrors[shape.data.code] ?? 'INTERNAL',
      reason: domain?.reason ?? (internal ? 'INTERNAL' : shape.data.code),
      metadata: domain?.metadata ?? {},
      fieldErrors: domain ? fieldErrorsOf(domain.fieldViolations) : {},
    },
  };
};
