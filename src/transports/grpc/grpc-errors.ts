import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { forCaller, type DomainError, type ErrorCode } from '../../domain/domain-error.js';
import type { Any } from '../../gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo, RetryInfo } from '../../gen/google/rpc/error_details.js';
import { durationOf } from './proto-codec.js';
import { Status } from '../../gen/google/rpc/status.js';

/** Total mapping: a new ErrorCode does not compile until it is mapped here. */
export const grpcStatusOf: Readonly<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL,
};

/** The ErrorInfo domain of this service (AIP-193). */
export const ERROR_DOMAIN = 'deletion.v1';
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const pack = (typeName: string, value: Uint8Array): Any => ({
  typeUrl: `type.googleapis.com/${typeName}`,
  value: Buffer.from(value),
});

/** Proto field paths are snake_case; the domain's are camelCase. */
const snakeCase = (path: string): string =>
  path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * Encodes a DomainError as a gRPC status with `google.rpc.Status` details:
 * an ErrorInfo always, a BadRequest when there are field violations, a
 * RetryInfo when the error says when to try again (rate limits). The
 * `cause` never goes on the wire, nor anything of an INTERNAL error.
 */
export const toServiceError = (thrown: DomainError): Partial<ServiceError> => {
  const error = forCaller(thrown);
  const code = grpcStatusOf[error.code];
  const details = [
    pack(
      'google.rpc.ErrorInfo',
      ErrorInfo.encode({
        reason: error.reason,
        domain: ERROR_DOMAIN,
        metadata: { ...error.metadata },
      }).finish(),
    ),
  ];
  if (error.fieldViolations.length > 0) {
    const fieldViolations = error.fieldViolations.map((violation) => ({
      field: snakeCase(violation.field),
      description: violation.description,
      reason: '',
      localizedMessage: undefined,
    }));
    details.push(pack('google.rpc.BadRequest', BadRequest.encode({ fieldViolations }).finish()));
  }
  if (error.retryDelayMs !== undefined) {
    const retryDelay = durationOf(error.retryDelayMs);
    details.push(pack('google.rpc.RetryInfo', RetryInfo.encode({ retryDelay }).finish()));
  }
  const metadata = new Metadata();
  metadata.set(
    STATUS_DETAILS_KEY,
    Buffer.from(Status.encode({ code, message: error.message, details }).finish()),
  );
  return { code, details: error.message, metadata };
};
