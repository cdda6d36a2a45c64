import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('tracing seam: every use case and adapter call is a span', () => {
  const exporter = new InMemorySpanExporter();
  let t: TestApp;
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    trace.disable();
    context.disable();
  });

  it('nests repository, directory and notifier spans under the use case span, and records the trace id', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    exporter.reset();

    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    const confirmed = await t.client.confirmDeletion({ name: created.name, code }, cast.self);

    const spans = exporter.getFinishedSpans();
    const root = spans.find((span) => span.name === 'deletion.request');
    expect(root).toBeDefined();
    const children = spans
      .filter((span) => span.spanContext().traceId === root!.spanContext().traceId)
      .map((s) => s.name);
    expect(children).toEqual(
      expect.arrayContaining([
        'persistence.accounts.find',
        'persistence.deletion_requests.insert',
        'notify.confirmation_code',
      ]),
    );
    const confirmSpan = spans.find((span) => span.name === 'deletion.confirm')!;
    expect(confirmed.history.at(-1)?.traceId).toBe(confirmSpan.spanContext().traceId);
    const confirmChildren = spans
      .filter((s) => s.spanContext().traceId === confirmSpan.spanContext().traceId)
      .map((s) => s.name);
    expect(confirmChildren).toEqual(
      expect.arrayContaining([
        'persistence.accounts.suspend',
        'persistence.deletion_requests.update',
      ]),
    );
  });

  it('never puts the subject id or the code in span attributes', async () => {
    const subjectId = newSubjectId('canary');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    exporter.reset();
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    await t.client.confirmDeletion({ name: created.name, code }, cast.self);

    const dump = JSON.stringify(
      exporter
        .getFinishedSpans()
        .map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
    );
    expect(dump).not.toContain(subjectId);
    expect(dump).not.toContain(t.emailOf(subjectId));
    expect(dump).not.toContain(code);
  });
});
