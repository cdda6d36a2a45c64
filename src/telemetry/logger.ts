import { pino, type Logger } from 'pino';
import { currentTraceId } from './with-span.js';

/**
 * The structured logger: JSON lines with the trace id, and secrets redacted
 * wherever they might appear. Callers log ids, codes and reasons, never the
 * data of people.
 */
export const createLogger = (options: { readonly level: string; readonly name?: string }): Logger =>
  pino({
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
      const traceId = currentTraceId();
      return traceId === '' ? {} : { trace_id: traceId };
    },
  });
