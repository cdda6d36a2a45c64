import { status, type Metadata } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo } from './gen/google/rpc/error_details.js';
import { Status } from './gen/google/rpc/status.js';

/** The name of a gRPC status code, e.g. DEADLINE_EXCEEDED (the number when unknown). */
export const grpcCodeName = (code: number): string =>
  (status as unknown as Readonly<Record<number, string | undefined>>)[code] ?? String(code);

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** The decoded `google.rpc.Status` of a failed call (AIP-193). */
export interface RichError {
  readonly code: number;
  readonly message: string;
  /** ErrorInfo.reason: stable, UPPER_SNAKE_CASE, what to branch on. */
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly { readonly field: string; readonly description: string }[];
  /** RetryInfo.retry_delay, when the server says when to try again. */
  readonly retryDelayMs: number | undefined;
}

/** Decodes `grpc-status-details-bin`; undefined when the status carries none. */
export const decodeRichError = (metadata: Metadata | undefined): RichError | undefined => {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return undefined;
  const decoded = Status.decode(raw);
  const detail = (name: string) => decoded.details.find((any) => any.typeUrl.endsWith(`/${name}`));
  const info = detail('google.rpc.ErrorInfo');
  const bad = detail('google.rpc.BadRequest');
  const retry = detail('google.rpc.RetryInfo');
  const errorInfo = info ? ErrorInfo.decode(info.value) : undefined;
  const delay = retry ? RetryInfo.decode(retry.value).retryDelay : undefined;
  return {
    code: decoded.code,
    message: decoded.message,
    reason: errorInfo?.reason ?? '',
    domain: errorInfo?.domain ?? '',
    metadata: errorInfo?.metadata ?? {},
    fieldViolations: bad
      ? BadRequest.decode(bad.value).fieldViolations.map(({ field, description }) => ({
          field,
          description,
        }))
      : [],
    retryDelayMs: delay ? Number(delay.seconds) * 1000 + Math.floor(delay.nanos / 1e6) : undefined,
  };
};
