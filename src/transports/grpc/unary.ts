import type { handleUnaryCall, Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/authenticator.js';
import { grpcPeerAddress } from '../../auth/failure-throttle.js';
import { DomainError, forCaller, isFault } from '../../domain/domain-error.js';
import type { Principal } from '../../domain/principal.js';
import { serverSpan, type RpcOutcome } from '../../telemetry/rpc-spans.js';
import { errorAttributes } from '../../telemetry/with-span.js';
import { grpcStatusOf, toServiceError } from './grpc-errors.js';
import { isMalformed, malformedRequest } from './malformed-request.js';
import { attributeKeys, rpcServices } from '../../telemetry/catalogue.js';

/** What every handler needs besides the service. */
export interface HandlerDeps {
  readonly authenticate: Authenticator;
  readonly logger: Logger;
}

const header = (metadata: Metadata, key: string): string | undefined => {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
};

/** The W3C trace context headers a caller may send, and nothing else of the metadata. */
const traceHeaders = (metadata: Metadata): Record<string, string | undefined> => ({
  traceparent: header(metadata, 'traceparent'),
  tracestate: header(metadata, 'tracestate'),
});

/** A call's outcome as the span records it: the gRPC status code, and the reason of a refusal. */
const outcomeOf = ({ error }: { readonly error?: unknown }): RpcOutcome => {
  if (error === undefined) return { attributes: { [attributeKeys.grpcStatus]: 0 }, fault: false };
  const seen = forCaller(DomainError.from(error));
  return {
    attributes: {
      [attributeKeys.grpcStatus]: grpcStatusOf[seen.code],
      ...errorAttributes(seen),
    },
    fault: isFault(seen.code),
  };
};

/** Logs failures by code and reason only: messages of causes may hold data of people. */
const report = (deps: HandlerDeps, method: string, error: DomainError): void => {
  const entry = {
    rpc: method,
    code: error.code,
    reason: error.reason,
    cause: (error.cause as Error | undefined)?.name,
  };
  if (error.code === 'INTERNAL') deps.logger.error(entry, 'rpc failed');
  else deps.logger.debug(entry, 'rpc refused');
};

/**
 * Turns an async handler into a grpc-js unary handler: runs it in a SERVER
 * span continuing the caller's trace, authenticates from the call's metadata
 * and client certificate (nothing runs without a principal), and sends any
 * error as a rich status.
 * Handlers stay small: decode, call the service, encode.
 */
export const unary =
  <TRequest, TResponse>(
    deps: HandlerDeps,
    method: string,
    handler: (principal: Principal, request: TRequest) => Promise<TResponse>,
  ): handleUnaryCall<TRequest, TResponse> =>
  (call: ServerUnaryCall<TRequest, TResponse>, callback: sendUnaryData<TResponse>) => {
    const run = async (): Promise<TResponse> => {
      const principal = await deps.authenticate({
        authorization: header(call.metadata, 'authorization'),
        apiKey: header(call.metadata, 'x-api-key'),
        clientCertificate: call.getAuthContext().sslPeerCertificate,
        peer: grpcPeerAddress(call.getPeer()),
      });
      // Authenticated first: a caller without credentials learns nothing of the method.
      if (isMalformed(call.request)) throw malformedRequest();
      return handler(principal, call.request);
    };
    serverSpan(
      {
        system: 'grpc',
        service: rpcServices.deletion,
        method,
        headers: traceHeaders(call.metadata),
        outcomeOf,
      },
      run,
    ).then(
      (response) => callback(null, response),
      (thrown: unknown) => {
        const error = DomainError.from(thrown);
        report(deps, method, error);
        callback(toServiceError(error));
      },
    );
  };
