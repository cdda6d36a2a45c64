import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { invalidArgument } from '../../domain/domain-error.js';

const malformed = Symbol('malformed request');

/** What a request that does not decode as its method's message reaches the handler as. */
export interface MalformedRequest {
  readonly [malformed]: true;
}

/** Whether the request did not decode (see `tolerantDecoding`). */
export const isMalformed = (request: unknown): request is MalformedRequest =>
  typeof request === 'object' && request !== null && malformed in request;

/** INVALID_ARGUMENT for a request that is not a message of its method. */
export const malformedRequest = () =>
  invalidArgument([{ field: '(request)', description: 'is not a valid message of this method' }]);

/**
 * The service definition with request decoding that never throws: a message
 * that does not decode (truncated, wrong wire type, bad UTF-8) reaches the
 * handler as a MalformedRequest, which refuses it with INVALID_ARGUMENT.
 * grpc-js itself would answer INTERNAL, a fault of the service, to any
 * caller sending garbage.
 */
export const tolerantDecoding = <TDefinition extends ServiceDefinition>(
  definition: TDefinition,
): TDefinition =>
  Object.fromEntries(
    Object.entries(definition).map(
      ([method, rpc]: [string, MethodDefinition<unknown, unknown>]) => [
        method,
        {
          ...rpc,
          requestDeserialize: (bytes: Buffer): unknown => {
            try {
              return rpc.requestDeserialize(bytes);
            } catch {
              return { [malformed]: true } satisfies MalformedRequest;
            }
          },
        },
      ],
    ),
  ) as TDefinition;
