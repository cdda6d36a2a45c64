import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/telemetry/logger.js';

describe('the structured logger', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: {
        write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
      },
    });
    return { lines, logger };
  };

  it('puts the trace and span ids of the active span on every line, and none outside one', () => {
    const { lines, logger } = capture();
    const span = trace.getTracer('test').startSpan('step');

    context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
    logger.info('outside');
    span.end();

    expect(lines[0]).toMatchObject({
      msg: 'inside',
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('redacts credentials and contact data wherever they appear', () => {
    const { lines, logger } = capture();

    logger.info(
      {
        authorization: 'Bearer eyJ.secret',
        call: { apiKey: 'k-123', email: 'alice@example.com', token: 't' },
        phone: '+4917012345678',
      },
      'call',
    );

    const line = JSON.stringify(lines[0]);
    expect(line).not.toMatch(/eyJ\.secret|k-123|alice@example\.com|\+4917012345678/);
    expect(lines[0]).toMatchObject({ authorization: '[REDACTED]', phone: '[REDACTED]' });
  });
});
