import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

const tracer = trace.getTracer('account-deletion-service');

/**
 * Runs `fn` in a new active span named after the step; records a failure on the
 * span and always ends it. Attributes carry ids only, never personal data.
 * Without an SDK registered this costs next to nothing (no-op tracer).
 */
export const withSpan = async <T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> =>
  tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });

/** The W3C trace id of the active span, or '' outside any trace. */
export const currentTraceId = (): string => {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : '';
};
