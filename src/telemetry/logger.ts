import { pino, type DestinationStream, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';

/**
 * The structured logger: JSON lines with the trace and span ids, and secrets redacted
 * wherever they might appear. Callers log ids, codes and reasons, never the
 * data of people.
 */
export const createLogger = (options: {
  readonly level: string;
  readonly name?: string;
  /** Where lines go; default standard output. */
  readonly destination?: DestinationStream;
}): Logger =>
  pino(
    {
      name: options.name ?? 'account-deletion-service',
      level: options.level,
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'apiKey',
          '*.apiKey',
          'email',
          '*.email',
          'phone',
          '*.phone',
          'token',
          '*.token',
        ],
        censor: '[REDACTED]',
      },
      mixin: () => {
        const span = trace.getActiveSpan()?.spanContext();
        return span && trace.isSpanContextValid(span)
          ? { trace_id: span.traceId, span_id: span.spanId }
          : {};
      },
    },
    options.destination ?? pino.destination(1),
  );
