import { SpanStatusCode, trace, TraceFlags, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('account-deletion-service');

/** Runs `fn` as the work of `span`: records a failure on it and always ends it. */
const within = async <T>(span: Span, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
};

/**
 * Runs `fn` in a new active span named after the step; records a failure on the
 * span and always ends it. Attributes carry ids only, never personal data.
 * Without an SDK registered this costs next to nothing (no-op tracer).
 */
export const withSpan = async <T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> => tracer.startActiveSpan(name, { attributes }, (span) => within(span, fn));

/** The W3C trace and span ids of the active span, or '' outside any trace. */
export const currentTrace = (): { traceId: string; spanId: string } => {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context)
    ? { traceId: context.traceId, spanId: context.spanId }
    : { traceId: '', spanId: '' };
};

/**
 * Runs `fn` in the root span of a new trace (whatever is active), linked to
 * spans of earlier traces: work that happens later, like the purge a request
 * scheduled, is its own trace and still leads back to the request's.
 */
export const withLinkedSpan = async <T>(
  span: {
    readonly name: string;
    readonly attributes: Attributes;
    readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  },
  fn: () => Promise<T>,
): Promise<T> =>
  tracer.startActiveSpan(
    span.name,
    {
      root: true,
      attributes: span.attributes,
      links: span.links.map((link) => ({
        context: { traceId: link.traceId, spanId: link.spanId, traceFlags: TraceFlags.SAMPLED },
      })),
    },
    (active) => within(active, fn),
  );

/** Adds an event to the active span, if any. Attributes carry ids only. */
export const spanEvent = (name: string, attributes: Attributes): void => {
  trace.getActiveSpan()?.addEvent(name, attributes);
};
