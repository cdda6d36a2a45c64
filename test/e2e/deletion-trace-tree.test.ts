import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParticipantServer,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import {
  attributeKeys,
  metricNames,
  persistenceSpan,
  rpcServices,
  rpcSpan,
  spanEvents,
  stepSpans,
  useCaseSpan,
  workerSpans,
} from '../../src/telemetry/catalogue.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { operations } from '../../src/domain/authorization.js';
import { installInMemoryTelemetry, totalOf } from '../support/in-memory-telemetry.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { scenarioClient, type Transport } from '../support/scenario-clients.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Whether the catalogue names a span: no span may carry a name made up on the spot. */
const catalogued = (name: string): boolean =>
  (
    [
      ...operations.map(useCaseSpan),
      ...Object.values(stepSpans),
      ...Object.values(workerSpans),
    ] as string[]
  ).includes(name) ||
  name.startsWith(persistenceSpan('')) ||
  name.startsWith(rpcSpan('grpc', rpcServices.deletion, '')) ||
  name.startsWith(rpcSpan('trpc', rpcServices.deletion, '')) ||
  name.startsWith(rpcSpan('grpc', rpcServices.participant, ''));

const ERASE = rpcSpan('grpc', rpcServices.participant, 'Erase');
const SUSPEND = rpcSpan('grpc', rpcServices.participant, 'Suspend');

// One SDK for the file: the service's tracers keep the provider they first used.
let telemetry: ReturnType<typeof installInMemoryTelemetry>;
beforeAll(() => {
  telemetry = installInMemoryTelemetry();
});
afterAll(() => {
  telemetry.uninstall();
});

describe.each<Transport>(['grpc', 'trpc'])(
  'one full deletion over %s, traced from the request to the last erasure',
  (transport) => {
    let t: TestApp;
    const linked: ParticipantServer[] = [];
    let billingFailures = 1;

    beforeAll(async () => {
      // Three linked services on the participant SDK: crm also takes the soft delete
      // (Suspend); billing's store is down for its first Erase.
      const names = ['crm', 'billing', 'analytics'] as const;
      const registrations = [];
      for (const name of names) {
        const server = createParticipantServer({
          suspend: () => Promise.resolve(),
          restore: () => Promise.resolve(),
          erase: () => {
            if (name === 'billing' && billingFailures > 0) {
              billingFailures -= 1;
              return Promise.reject(new Error('store down'));
            }
            return Promise.resolve({ kind: 'erased', records: 3, categories: [name] });
          },
        });
        const port = await server.listen('127.0.0.1', 0);
        linked.push(server);
        registrations.push({
          name,
          address: `127.0.0.1:${String(port)}`,
          phases: name === 'crm' ? ['suspend', 'erase'] : ['erase'],
          maxAttempts: 3,
        });
      }
      t = await startTestApp({
        GRACE_PERIOD_SECONDS: '0',
        RETRY_BASE_MS: '1',
        RETRY_CAP_MS: '5',
        PARTICIPANTS: JSON.stringify(registrations),
      });
    });
    afterAll(async () => {
      await t[Symbol.asyncDispose]();
      for (const server of linked) await server.close();
    });

    it('is one tree per step: every step once, under the right parent, the purge linked to the request', async () => {
      const client = scenarioClient(transport, t);
      const subjectId = newSubjectId('tree');
      await t.seedAccount({ id: subjectId, roles: ['owner'] }); // an owner: four eyes
      const cast = await castFor(subjectId);
      const before = await telemetry.collect();
      telemetry.exporter.reset();

      const created = await client.request({ subjectId, reason: 'leaving' }, cast.self);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId));
      await client.confirm({ name: created.name, code }, cast.self);
      await client.approve({ name: created.name }, cast.approver);
      const id = created.name.split('/')[1] as DeletionRequestId;
      for (let pass = 0; pass < 5; pass += 1) {
        if ((await t.app.deps.requests.findById(id))?.state === 'COMPLETED') break;
        await t.app.runWorkerPass();
      }
      const done = await client.get({ name: created.name }, cast.self);
      expect(done.state).toBe('COMPLETED');

      const spans = telemetry.exporter.getFinishedSpans();
      const named = (name: string) => spans.filter((span) => span.name === name);
      const one = (name: string): ReadableSpan => {
        expect(named(name), name).toHaveLength(1);
        return named(name)[0]!;
      };
      const spanId = (span: ReadableSpan) => span.spanContext().spanId;
      const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
      const childrenOf = (parent: ReadableSpan, name?: string) =>
        spans.filter(
          (span) =>
            span.parentSpanContext?.spanId === spanId(parent) &&
            traceOf(span) === traceOf(parent) &&
            (name === undefined || span.name === name),
        );
      const onlyChild = (parent: ReadableSpan, name: string): ReadableSpan => {
        const children = childrenOf(parent, name);
        expect(children, `${name} under ${parent.name}`).toHaveLength(1);
        return children[0]!;
      };
      const rpc = (method: string) =>
        transport === 'grpc'
          ? rpcSpan('grpc', rpcServices.deletion, method)
          : rpcSpan('trpc', rpcServices.deletion, `${method[0]!.toLowerCase()}${method.slice(1)}`);
      const ok =
        transport === 'grpc'
          ? { [attributeKeys.grpcStatus]: 0 }
          : { [attributeKeys.trpcCode]: 'OK' };

      // Every span is named in the catalogue.
      expect(spans.map((span) => span.name).filter((name) => !catalogued(name))).toEqual([]);

      // The API calls: the transport's SERVER span is the root, the use case under it, the steps under that.
      const served = (method: string, useCase: string) => {
        const server = one(rpc(method));
        expect(server.kind).toBe(SpanKind.SERVER);
        expect(server.parentSpanContext).toBeUndefined();
        expect(server.attributes).toMatchObject(ok);
        expect(server.status.code).toBe(SpanStatusCode.UNSET);
        return { server, useCase: onlyChild(server, useCase) };
      };
      const request = served('RequestDeletion', useCaseSpan('requestDeletion'));
      for (const step of [
        persistenceSpan('accounts', 'find'),
        persistenceSpan('deletion_requests', 'insert'),
        stepSpans.noticeConfirmationCode,
      ])
        onlyChild(request.useCase, step);
      const confirm = served('ConfirmDeletion', useCaseSpan('confirmDeletion'));
      const verify = onlyChild(confirm.useCase, stepSpans.verify);
      expect(verify.attributes[attributeKeys.confirmMethod]).toBe('ONE_TIME_CODE');
      const approve = served('ApproveDeletion', useCaseSpan('approveDeletion'));
      const softDelete = onlyChild(approve.useCase, stepSpans.softDelete);
      // A database call's span says which database it is (the driver's own spans are opt-in).
      const suspendCall = onlyChild(softDelete, persistenceSpan('accounts', 'suspend'));
      expect(suspendCall.attributes[attributeKeys.dbSystem]).toBe('mongodb');
      for (const step of [
        useCaseSpan('requestDeletion'),
        useCaseSpan('confirmDeletion'),
        useCaseSpan('approveDeletion'),
        stepSpans.verify,
        stepSpans.softDelete,
        stepSpans.noticeConfirmationCode,
        stepSpans.participantSuspend,
        stepSpans.eraseLocal,
        stepSpans.noticeErasureCompleted,
      ])
        one(step);
      // Three calls, three traces.
      expect(new Set([request, confirm, approve].map(({ server }) => traceOf(server))).size).toBe(
        3,
      );

      // Each linked-service call: a CLIENT span, and under it the SDK's SERVER span, in the same trace.
      const overTheWire = (step: ReadableSpan, method: string) => {
        const out = onlyChild(step, method);
        expect(out.kind).toBe(SpanKind.CLIENT);
        const into = onlyChild(out, method);
        expect(into.kind).toBe(SpanKind.SERVER);
        return { out, into };
      };
      const linksOf = (span: ReadableSpan) => span.links.map((link) => link.context.traceId);

      // The soft delete's Suspend calls: a worker trace of its own, linked to the approval's.
      const notify = one(workerSpans.sendOwed);
      expect(notify.parentSpanContext).toBeUndefined();
      expect(linksOf(notify)).toContain(traceOf(approve.server));
      const suspend = onlyChild(notify, stepSpans.participantSuspend);
      expect(suspend.attributes[attributeKeys.participant]).toBe('crm');
      overTheWire(suspend, SUSPEND);

      // Two purge passes: billing fails in the first and is retried in the second.
      const purges = named(workerSpans.purge);
      expect(purges).toHaveLength(2);
      const [first, second] = purges as [ReadableSpan, ReadableSpan];
      for (const purge of purges) {
        expect(purge.parentSpanContext).toBeUndefined();
        expect(purge.attributes[attributeKeys.requestId]).toBe(id);
        expect(linksOf(purge)).toEqual(
          expect.arrayContaining([request, confirm, approve].map(({ server }) => traceOf(server))),
        );
        expect([traceOf(request.server), traceOf(confirm.server)]).not.toContain(traceOf(purge));
      }
      expect(traceOf(first)).not.toBe(traceOf(second));
      expect(linksOf(second)).toContain(traceOf(first)); // the ERASING change happened there
      type Erase = ReturnType<typeof erases>[number];
      const erases = (purge: ReadableSpan) =>
        childrenOf(purge, stepSpans.participantErase).map((span) => ({
          participant: span.attributes[attributeKeys.participant],
          attempt: span.attributes[attributeKeys.attempt],
          outcome: span.attributes[attributeKeys.participantOutcome],
          error: span.attributes[attributeKeys.errorCode],
          status: span.status.code,
          wire: overTheWire(span, ERASE),
        }));
      const withoutWire = ({ participant, attempt, outcome, error, status }: Erase) => ({
        participant,
        attempt,
        outcome,
        error,
        status,
      });
      const sorted = <T extends { participant: unknown }>(items: T[]) =>
        items.sort((a, b) => String(a.participant).localeCompare(String(b.participant)));
      const firstErases = sorted(erases(first));
      expect(firstErases.map(withoutWire)).toEqual([
        { participant: 'analytics', attempt: '1', outcome: 'ERASED', error: undefined, status: 0 },
        {
          participant: 'billing',
          attempt: '1',
          outcome: undefined,
          error: 'UNAVAILABLE',
          status: SpanStatusCode.ERROR,
        },
        { participant: 'crm', attempt: '1', outcome: 'ERASED', error: undefined, status: 0 },
      ]);
      const failed = firstErases[1]!.wire;
      expect(failed.out.status.code).toBe(SpanStatusCode.ERROR);
      expect(failed.out.attributes[attributeKeys.errorReason]).toBe('UNAVAILABLE');
      expect(failed.into.status.code).toBe(SpanStatusCode.ERROR);
      expect(erases(second).map(withoutWire)).toEqual([
        { participant: 'billing', attempt: '2', outcome: 'ERASED', error: undefined, status: 0 },
      ]);
      // The failure and its back-off are an event of the first pass.
      const retries = first.events.filter((event) => event.name === spanEvents.retryScheduled);
      expect(retries.map((event) => event.attributes)).toEqual([
        expect.objectContaining({
          [attributeKeys.participant]: 'billing',
          [attributeKeys.attempt]: '1',
          [attributeKeys.errorReason]: 'UNAVAILABLE',
        }),
      ]);
      expect(second.events.filter((event) => event.name === spanEvents.gaveUp)).toEqual([]);
      // The local erasure and the final notice: once, in the pass that completed the request.
      onlyChild(second, stepSpans.eraseLocal);
      onlyChild(second, stepSpans.noticeErasureCompleted);

      // The resource names the trace of each step of its life: its creation, each state change.
      expect(done.createTraceId).toBe(traceOf(request.server));
      expect(done.history.map((change) => [change.to, change.traceId])).toEqual([
        ['AWAITING_APPROVAL', traceOf(confirm.server)],
        ['SCHEDULED', traceOf(approve.server)],
        ['ERASING', traceOf(first)],
        ['COMPLETED', traceOf(second)],
      ]);

      // The same story in the metrics, by state and participant, never by id.
      const after = await telemetry.collect();
      const since = (name: string, attributes: Record<string, string>) =>
        totalOf(after, name, attributes) - totalOf(before, name, attributes);
      const moved = (from: string, to: string) =>
        since(metricNames.transitions, {
          [attributeKeys.fromState]: from,
          [attributeKeys.toState]: to,
        });
      expect(moved('REQUESTED', 'AWAITING_APPROVAL')).toBe(1);
      expect(moved('AWAITING_APPROVAL', 'SCHEDULED')).toBe(1);
      expect(moved('SCHEDULED', 'ERASING')).toBe(1);
      expect(moved('ERASING', 'COMPLETED')).toBe(1);
      for (const state of ['REQUESTED', 'AWAITING_APPROVAL', 'SCHEDULED', 'ERASING'])
        expect(since(metricNames.timeInState, { [attributeKeys.state]: state }), state).toBe(1);
      const billing = { [attributeKeys.participant]: 'billing', [attributeKeys.phase]: 'erase' };
      expect(
        since(metricNames.participantFailures, {
          ...billing,
          [attributeKeys.errorReason]: 'UNAVAILABLE',
        }),
      ).toBe(1);
      expect(since(metricNames.participantRetries, billing)).toBe(1);
      expect(since(metricNames.participantFailures, { [attributeKeys.participant]: 'crm' })).toBe(
        0,
      );
      expect(JSON.stringify(after)).not.toContain(id);
      expect(JSON.stringify(after)).not.toContain(subjectId);
    });
  },
);
