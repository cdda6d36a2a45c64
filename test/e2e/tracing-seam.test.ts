import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParticipantServer,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { callError } from '../support/grpc-test-client.js';
import { aDeletionRequest } from '../fixtures/deletion-request-builder.js';
import { installInMemoryTelemetry, pointsOf, totalOf } from '../support/in-memory-telemetry.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('tracing seam: every use case and adapter call is a span', () => {
  const telemetry = installInMemoryTelemetry();
  const { exporter } = telemetry;
  let t: TestApp;
  let linked: ParticipantServer;
  let failNext = 0;
  /** Every log line the service writes, at debug level. */
  const logLines: string[] = [];
  beforeAll(async () => {
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
    telemetry.uninstall();
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
    const root = spans.find((span) => span.name === 'deletion.request_deletion');
    expect(root).toBeDefined();
    const children = spans
      .filter((span) => span.spanContext().traceId === root!.spanContext().traceId)
      .map((s) => s.name);
    expect(children).toEqual(
      expect.arrayContaining([
        'persistence.accounts.find',
        'persistence.deletion_requests.insert',
        'notice.confirmation_code',
      ]),
    );
    const confirmSpan = spans.find((span) => span.name === 'deletion.confirm_deletion')!;
    expect(confirmed.history.at(-1)?.traceId).toBe(confirmSpan.spanContext().traceId);
    const confirmChildren = spans
      .filter((s) => s.spanContext().traceId === confirmSpan.spanContext().traceId)
      .map((s) => s.name);
    expect(confirmChildren).toEqual(
      expect.arrayContaining([
        'deletion.verify',
        'deletion.soft_delete',
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
    expect(childOf('deletion.get_deletion_request', grpcGet!)).toHaveLength(1);
    expect(childOf('deletion.get_deletion_request', trpcGet!)).toHaveLength(1);
    expect(childOf('deletion.list_deletion_requests', trpcList!)).toHaveLength(1);
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
      expect(domain?.attributes['deletion.participant.attempt']).toBe(String(i + 1));
    });
    expect(clients[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients[0]!.attributes['deletion.error_reason']).toBe('UNAVAILABLE');
    expect(servers[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients[1]!.attributes['rpc.grpc.status_code']).toBe(0);
    expect(clients[1]!.attributes['deletion.participant.name']).toBe('crm');
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
      'deletion.participant.name': 'crm',
      'deletion.participant.attempt': '1',
      'deletion.error_reason': 'UNAVAILABLE',
    });
    expect(Number(retry?.attributes?.['deletion.participant.retry_in_ms'])).toBeGreaterThanOrEqual(
      0,
    );
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
    const before = await telemetry.collect(); // counts are cumulative

    await t.client.getDeletionRequest({ name: subject.name }, subject.cast.self);
    await trpc.listDeletionRequests.query({});
    await callError(t.client.approveDeletion({ name: subject.name }, subject.cast.self));
    await t.app.runWorkerPass();
    await t.app.runWorkerPass();
    const after = await telemetry.collect();
    /** Calls with these attributes since `before`. */
    const count = (name: string, attributes: Record<string, unknown>) =>
      totalOf(after, name, attributes) - totalOf(before, name, attributes);

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
    const erase = { 'deletion.participant.name': 'crm', 'rpc.method': 'Erase' };
    expect(count('rpc.client.duration', { ...erase, 'deletion.error_reason': 'UNAVAILABLE' })).toBe(
      1,
    );
    expect(
      count('rpc.client.duration', { ...erase, 'rpc.grpc.status_code': 0 }),
    ).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(pointsOf(after, 'rpc.server.duration'))).not.toContain(subject.subjectId);
  });

  it('reports open requests by state, and those near their legal deadline, as gauges read from the database', async () => {
    const gauge = async (name: string, attributes: Record<string, string> = {}) =>
      totalOf(await telemetry.collect(), name, attributes);
    const stuck = { 'deletion.state': 'NEEDS_ATTENTION' };
    const before = {
      stuck: await gauge('deletion.requests.open', stuck),
      near: await gauge('deletion.requests.near_deadline'),
    };
    const day = 86_400_000;
    // Past its deadline, in two days, in three weeks (the warning is 7 days); one already done.
    await t.app.deps.requests.insert(
      aDeletionRequest({ state: 'NEEDS_ATTENTION', legalDeadline: new Date(Date.now() - day) }),
    );
    await t.app.deps.requests.insert(
      aDeletionRequest({ state: 'SCHEDULED', legalDeadline: new Date(Date.now() + 2 * day) }),
    );
    await t.app.deps.requests.insert(
      aDeletionRequest({ state: 'SCHEDULED', legalDeadline: new Date(Date.now() + 21 * day) }),
    );
    await t.app.deps.requests.insert(
      aDeletionRequest({ state: 'COMPLETED', legalDeadline: new Date(Date.now() + day) }),
    );

    exporter.reset();
    expect(await gauge('deletion.requests.open', stuck)).toBe(before.stuck + 1);
    // Reading the gauges is not a step of any deletion: it leaves no trace.
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(await gauge('deletion.requests.counted_at')).toBeGreaterThan(0);
    expect(await gauge('deletion.requests.near_deadline')).toBe(before.near + 2);
    const points = pointsOf(await telemetry.collect(), 'deletion.requests.open');
    expect(points.map((point) => point.attributes['deletion.state']).sort()).toEqual([
      'AWAITING_APPROVAL',
      'ERASING',
      'NEEDS_ATTENTION',
      'REQUESTED',
      'SCHEDULED',
    ]);
  });
});
