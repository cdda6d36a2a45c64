import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { recordRpcDuration } from './rpc-metrics.js';
import { attributeKeys, rpcSpan } from './catalogue.js';

const tracer = trace.getTracer('account-deletion-service');

/** One RPC, named the way instrumentation-grpc names its spans: `<system>.<service>/<method>`. */
export interface RpcCall {
  readonly system: 'grpc' | 'trpc';
  /** e.g. `deletion.v1.DeletionService`. */
  readonly service: string;
  /** e.g. `RequestDeletion` (gRPC) or `requestDeletion` (tRPC). */
  readonly method: string;
}

const rpcAttributes = (call: RpcCall): Attributes => ({
  [attributeKeys.rpcSystem]: call.system,
  [attributeKeys.rpcService]: call.service,
  [attributeKeys.rpcMethod]: call.method,
});

const spanName = (call: RpcCall): string => rpcSpan(call.system, call.service, call.method);

/** What an RPC span records of a failure: the codes, never the message. */
export interface RpcOutcome {
  /** Status attributes, e.g. `{ [attributeKeys.grpcStatus]: 9 }`. */
  readonly attributes: Attributes;
  /** A fault of the service (status ERROR), as opposed to a refused call (status unset). */
  readonly fault: boolean;
}

/** Names the outcome of a call (a thrown value included) in codes. */
export type OutcomeOf = (result: { readonly error?: unknown }) => RpcOutcome;

/**
 * Runs an RPC as the work of `span`: records its outcome on the span and its
 * duration in the RPC histogram of its side, and always ends the span.
 */
const measure = async <T>(
  span: Span,
  call: {
    readonly side: 'server' | 'client';
    readonly attributes: Attributes;
    readonly outcomeOf: OutcomeOf;
  },
  run: () => Promise<T>,
): Promise<T> => {
  const started = performance.now();
  const finish = (outcome: RpcOutcome): void => {
    span.setAttributes(outcome.attributes);
    if (outcome.fault) span.setStatus({ code: SpanStatusCode.ERROR });
    recordRpcDuration(call.side, performance.now() - started, {
      ...call.attributes,
      ...outcome.attributes,
    });
  };
  try {
    const result = await run();
    finish(call.outcomeOf({}));
    return result;
  } catch (error) {
    finish(call.outcomeOf({ error }));
    throw error;
  } finally {
    span.end();
  }
};

/**
 * Runs a server-side RPC in a SERVER span. Its parent is the span already
 * active (an HTTP server span of an instrumentation), or else the W3C trace
 * context the caller sent in `headers`. `outcomeOf` names the result (a thrown
 * value included) in codes, so the span never holds a message.
 */
export const serverSpan = <T>(
  call: RpcCall & {
    readonly headers: Readonly<Record<string, string | undefined>>;
    readonly outcomeOf: OutcomeOf;
  },
  run: () => Promise<T>,
): Promise<T> => {
  const parent =
    trace.getSpan(context.active()) === undefined
      ? propagation.extract(ROOT_CONTEXT, call.headers)
      : context.active();
  const attributes = rpcAttributes(call);
  return tracer.startActiveSpan(
    spanName(call),
    { kind: SpanKind.SERVER, attributes },
    parent,
    (span) => measure(span, { side: 'server', attributes, outcomeOf: call.outcomeOf }, run),
  );
};

/**
 * Runs an outgoing RPC in a CLIENT span and hands `run` the W3C trace context
 * headers to send, so the callee's spans join this trace under this span.
 */
export const clientSpan = <T>(
  call: RpcCall & { readonly attributes: Attributes; readonly outcomeOf: OutcomeOf },
  run: (headers: Readonly<Record<string, string>>) => Promise<T>,
): Promise<T> => {
  const attributes = { ...rpcAttributes(call), ...call.attributes };
  return tracer.startActiveSpan(spanName(call), { kind: SpanKind.CLIENT, attributes }, (span) => {
    const headers: Record<string, string> = {};
    propagation.inject(context.active(), headers);
    return measure(span, { side: 'client', attributes, outcomeOf: call.outcomeOf }, () =>
      run(headers),
    );
  });
};
