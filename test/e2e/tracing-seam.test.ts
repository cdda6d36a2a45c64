import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParticipantServer,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('tracing seam: every use case and adapter call is a span', () => {
  const exporter = new InMemorySpanExporter();
  let t: TestApp;
  let linked: ParticipantServer;
  let failNext = 0;
  /** Collects the service's metrics when the test asks. */
  class TestReader extends MetricReader {
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const reader = new TestReader();
  /** Every log line the service writes, at debug level. */
  const logLines: string[] = [];
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    // A linked service built on the participant SDK, failing when told to.
    linked = createParticipantServer({
      suspend: () => Promise.resolve(),
      restore: () => Promise.resolve(),
      erase: () => {
        if (failNext > 0) {
          failNext -= 1;
          return Promise.reject(new Error('store down'));
        }
        return Promise.resolve({ kind: 'erased', records: 2, categories: ['crm'] });
      },
    });
    const port = await linked.listen('127.0.0.1', 0);
    t = await startTestApp(
      {
        GRACE_PERIOD_SECONDS: '0',
        RETRY_BASE_MS: '1',
        PARTICIPANTS: JSON.stringify([
          { name: 'crm', address: `127.0.0.1:${String(port)}`, phases: ['erase'], maxAttempts: 5 },
        ]),
      },
      {
        logger: createLogger({
          level: 'debug',
          destination: { write: (line: string) => logLines.push(line) },
        }),
      },
    );
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await linked.close();
    trace.disable();
    metrics.disable();
    propagation.disable();
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

  const caller = trace.getTracer('test-caller');
  const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

  it('continues a caller’s trace over gRPC and tRPC: a SERVER span, and the use case under it', async () => {
    const subject = await t.requested({ prefix: 'traced' });
    const trpc = createTrpcClient({ url: t.trpcUrl, token: subject.cast.self.token });
    exporter.reset();
    const root = caller.startSpan('caller');

    await context.with(trace.setSpan(context.active(), root), async () => {
      await t.client.getDeletionRequest({ name: subject.name }, subject.cast.self);
      await Promise.all([
        trpc.getDeletionRequest.query({ name: subject.name }),
        trpc.listDeletionRequests.query({}),
      ]);
      await callError(t.client.approveDeletion({ name: subject.name }, subject.cast.self));
    });
    root.end();

    const traceId = root.spanContext().traceId;
    const servers = [
      'grpc.deletion.v1.DeletionService/GetDeletionRequest',
      'trpc.deletion.v1.DeletionService/getDeletionRequest',
      'trpc.deletion.v1.DeletionService/listDeletionRequests',
      'grpc.deletion.v1.DeletionService/ApproveDeletion',
    ].map((name) => {
      const [span] = finished(name);
      expect(span, name).toBeDefined();
      expect(span?.kind).toBe(SpanKind.SERVER);
      expect(span?.spanContext().traceId).toBe(traceId);
      expect(span?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      return span!;
    });
    const [grpcGet, trpcGet, trpcList, refused] = servers;
    const childOf = (name: string, parent: (typeof servers)[number]) =>
      finished(name).filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
    expect(childOf('deletion.get', grpcGet!)).toHaveLength(1);
    expect(childOf('deletion.get', trpcGet!)).toHaveLength(1);
    expect(childOf('deletion.list', trpcList!)).toHaveLength(1);
    expect(grpcGet!.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'deletion.v1.DeletionService',
      'rpc.method': 'GetDeletionRequest',
      'rpc.grpc.status_code': 0,
    });
    expect(trpcList!.attributes).toMatchObject({ 'rpc.system': 'trpc', 'rpc.trpc.code': 'OK' });
    // A refused call is recorded by its code and reason, and is not a fault of the service.
    expect(refused!.attributes).toMatchObject({
      'rpc.grpc.status_code': 7,
      'deletion.error_code': 'PERMISSION_DENIED',
      'deletion.error_reason': 'PERMISSION_DENIED',
    });
    expect(refused!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('puts each linked-service call in a CLIENT span the SDK’s SERVER span continues, retries included', async () => {
    await t.app.runWorkerPass(); // purges what earlier tests scheduled
    const subject = await t.scheduled({ prefix: 'fanout' });
    failNext = 1;
    exporter.reset();

    await t.app.runWorkerPass();
    await t.app.runWorkerPass();

    const clients = finished('grpc.deletion.participant.v1.ErasureParticipantService/Erase').filter(
      (s) => s.kind === SpanKind.CLIENT,
    );
    const servers = finished('grpc.deletion.participant.v1.ErasureParticipantService/Erase').filter(
      (s) => s.kind === SpanKind.SERVER,
    );
    expect(clients).toHaveLength(2);
    expect(servers).toHaveLength(2);
    clients.forEach((client, i) => {
      const server = servers[i]!;
      expect(server.spanContext().traceId).toBe(client.spanContext().traceId);
      expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
      const [domain] = exporter
        .getFinishedSpans()
        .filter((s) => s.spanContext().spanId === client.parentSpanContext?.spanId);
      expect(domain?.name).toBe('participant.erase');
      expect(domain?.attributes['participant.attempt']).toBe(String(i + 1));
    });
    expect(clients[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients[0]!.attributes['deletion.error_reason']).toBe('UNAVAILABLE');
    expect(servers[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients[1]!.attributes['rpc.grpc.status_code']).toBe(0);
    expect(clients[1]!.attributes['deletion.participant']).toBe('crm');
    expect(
      (await t.client.getDeletionRequest({ name: subject.name }, subject.cast.self)).state,
    ).toBe(9);

    // The purge passes are traces of their own, each linked to the trace that scheduled it.
    const stored = (await t.app.deps.requests.findById(subject.id))!;
    const scheduling = stored.history.find((change) => change.to === 'SCHEDULED')!;
    const purges = finished('deletion.purge').filter(
      (span) => span.attributes['deletion.request_id'] === subject.id,
    );
    expect(purges).toHaveLength(2);
    for (const purge of purges) {
      expect(purge.parentSpanContext).toBeUndefined();
      expect(purge.spanContext().traceId).not.toBe(scheduling.traceId);
      expect(purge.links.map((link) => link.context)).toContainEqual(
        expect.objectContaining({ traceId: scheduling.traceId, spanId: scheduling.spanId }),
      );
    }
    expect(scheduling.spanId).toMatch(/^[0-9a-f]{16}$/);
    // The failed call and its back-off are an event on the first purge's span.
    const retry = purges[0]!.events.find((event) => event.name === 'participant.retry_scheduled');
    expect(retry?.attributes).toMatchObject({
      'participant.name': 'crm',
      'participant.attempt': '1',
      'participant.error': 'UNAVAILABLE',
    });
    expect(Number(retry?.attributes?.['participant.retry_in_ms'])).toBeGreaterThanOrEqual(0);
    // Each state change records the trace it happened in: the purge's are the purge traces.
    const purgeTraces = purges.map((span) => span.spanContext().traceId);
    const erasing = stored.history.filter((change) => change.from !== 'REQUESTED');
    expect(erasing.map((change) => change.to)).toEqual(['ERASING', 'COMPLETED']);
    for (const change of erasing) expect(purgeTraces).toContain(change.traceId);
    // The linked-service calls are in the purge traces.
    for (const client of clients) expect(purgeTraces).toContain(client.spanContext().traceId);
  });

  it('never lets a canary subject, its address or its code into a span, event, link or log line', async () => {
    await t.app.runWorkerPass(); // purges what earlier tests scheduled
    const subjectId = `canary-${String(Date.now())}`;
    await t.seedAccount({ id: subjectId, roles: ['owner'] });
    const cast = await castFor(subjectId);
    exporter.reset();
    logLines.length = 0;
    failNext = 1;

    // Over tRPC: request; the code by mail; confirm; approval by someone else; purge with a retry.
    const asSubject = createTrpcClient({ url: t.trpcUrl, token: cast.self.token });
    const created = await asSubject.requestDeletion.mutate({ subjectId, reason: 'leaving' });
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    await asSubject.confirmDeletion.mutate({ name: created.name, code });
    await t.client.approveDeletion({ name: created.name }, cast.approver);
    await callError(t.client.getDeletionRequest({ name: created.name }, { token: 'forged' }));
    await t.app.runWorkerPass();
    await t.app.runWorkerPass();

    const done = await asSubject.getDeletionRequest.query({ name: created.name });
    expect(done.state).toBe('COMPLETED');
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(0);
    const dump = JSON.stringify([
      spans.map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        links: s.links,
      })),
      logLines,
    ]);
    for (const canary of [subjectId, t.emailOf(subjectId), code, cast.self.token])
      expect(dump).not.toContain(canary);
  });

  it('measures every served call and every linked-service call in RPC duration histograms', async () => {
    await t.app.runWorkerPass(); // purges what earlier tests scheduled
    const subject = await t.scheduled({ prefix: 'metered' });
    const trpc = createTrpcClient({ url: t.trpcUrl, token: subject.cast.self.token });
    failNext = 1;
    const before = (await reader.collect()).resourceMetrics; // counts are cumulative

    await t.client.getDeletionRequest({ name: subject.name }, subject.cast.self);
    await trpc.listDeletionRequests.query({});
    await callError(t.client.approveDeletion({ name: subject.name }, subject.cast.self));
    await t.app.runWorkerPass();
    await t.app.runWorkerPass();
    const { resourceMetrics } = await reader.collect();

    const pointsIn = (collected: typeof before, name: string) =>
      collected.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as DataPoint<Histogram>[]);
    const points = (name: string) => pointsIn(resourceMetrics, name);
    /** Calls with these attributes since `before`. */
    const count = (name: string, attributes: Record<string, unknown>) => {
      const total = (collected: typeof before) =>
        pointsIn(collected, name)
          .filter((point) =>
            Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
          )
          .reduce((sum, point) => sum + point.value.count, 0);
      return total(resourceMetrics) - total(before);
    };

    expect(
      count('rpc.server.duration', {
        'rpc.method': 'GetDeletionRequest',
        'rpc.grpc.status_code': 0,
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      count('rpc.server.duration', {
        'rpc.system': 'trpc',
        'rpc.method': 'listDeletionRequests',
        'rpc.trpc.code': 'OK',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      count('rpc.server.duration', {
        'rpc.method': 'ApproveDeletion',
        'deletion.error_code': 'PERMISSION_DENIED',
      }),
    ).toBeGreaterThanOrEqual(1);
    const erase = { 'deletion.participant': 'crm', 'rpc.method': 'Erase' };
    expect(count('rpc.client.duration', { ...erase, 'deletion.error_reason': 'UNAVAILABLE' })).toBe(
      1,
    );
    expect(
      count('rpc.client.duration', { ...erase, 'rpc.grpc.status_code': 0 }),
    ).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(points('rpc.server.duration'))).not.toContain(subject.subjectId);
  });
});
