import { SpanStatusCode, trace, TraceFlags, type Attributes, type Span } from '@opentelemetry/api';
import { attributeKeys } from './catalogue.js';
import { DomainError, isFault } from '../domain/domain-error.js';

const tracer = trace.getTracer('account-deletion-service');

/** A domain error as span and metric attributes: its code and reason, never its message. */
export const errorAttributes = (error: DomainError): Attributes => ({
  [attributeKeys.errorCode]: error.code,
  [attributeKeys.errorReason]: error.reason,
});

/**
 * Records what `error` was on `span` by its code and reason (a DomainError) or
 * its type, never its message: messages of causes (a driver's duplicate-key
 * error, say) may hold data of people. Only a fault of the service (or of what
 * it depends on) marks the span as an error; a refused call does not.
 */
const recordFailure = (span: Span, error: unknown): void => {
  if (error instanceof DomainError) {
    span.setAttributes(errorAttributes(error));
    if (isFault(error.code)) span.setStatus({ code: SpanStatusCode.ERROR });
    return;
  }
  span.addEvent('exception', {
    'exception.type': error instanceof Error ? error.name : typeof error,
  });
  span.setStatus({ code: SpanStatusCode.ERROR });
};

/** Runs `fn` as the work of `span`: records a failure on it and always ends it. */
const within = async <T>(span: Span, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    recordFailure(span, error);
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

/** Adds attributes to the active span, if any. Ids and codes only. */
export const annotateSpan = (attributes: Attributes): void => {
  trace.getActiveSpan()?.setAttributes(attributes);
};
