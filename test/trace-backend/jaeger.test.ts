import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { DeletionRequest_State } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { ensureJaeger, JAEGER_VERSION, startJaeger, type Jaeger } from '../support/jaeger.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { killReplica, startReplica, type Replica } from '../support/replica.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../support/tokens.js';

/** A span as Jaeger's query API returns it. */
interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { refType: string; traceID: string; spanID: string }[];
  readonly tags: readonly { key: string; value: unknown }[];
  readonly processID: string;
}
interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { serviceName: string }>>;
}

const SERVICE = 'account-deletion-service';

describe(`a real trace backend (Jaeger ${JAEGER_VERSION}) receives a deletion's traces over OTLP`, () => {
  let jaeger: Jaeger;
  let t: TestApp;
  let replica: Replica;
  /** What beforeAll started, stopped in reverse order even when it failed half-way. */
  const started: (() => PromiseLike<unknown>)[] = [];

  beforeAll(async () => {
    const binary = await ensureJaeger((line) => {
      console.log(`[jaeger] ${line}`);
    });
    const folder = await mkdtemp(join(tmpdir(), 'jaeger-check-'));
    started.push(() => rm(folder, { recursive: true, force: true }));
    jaeger = await startJaeger(binary, folder);
    started.push(() => jaeger[Symbol.asyncDispose]());
    const fakes: FakeParticipant[] = [];
    for (const name of ['crm', 'billing']) {
      const fake = await startFakeParticipant(name);
      started.push(() => fake[Symbol.asyncDispose]());
      fakes.push(fake);
    }
    // The test's app seeds accounts and receives mail; the replica serves, runs the
    // worker and exports its traces to Jaeger.
    t = await startTestApp();
    started.push(() => t[Symbol.asyncDispose]());
    replica = await startReplica(
      {
        MONGODB_URI: inject('mongoUri'),
        MONGODB_DB: t.dbName,
        JWT_ISSUER: TEST_ISSUER,
        JWT_AUDIENCE: TEST_AUDIENCE,
        JWT_HS256_SECRET: TEST_SECRET,
        OTP_SECRET: 'test-only-otp-secret-0123456789abcdef',
        NOTIFIER: 'smtp',
        SMTP_URL: t.smtp.url,
        GRACE_PERIOD_SECONDS: '0',
        WORKER_INTERVAL_MS: '100',
        PARTICIPANTS: participantsConfig(fakes),
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      ['./src/telemetry/otel-bootstrap.ts'],
    );
    started.push(() => killReplica(replica));
  }, 1_500_000);
  afterAll(async () => {
    for (const stop of started.reverse()) {
      try {
        await stop();
      } catch {
        // Keep stopping the rest.
      }
    }
  });

  /** Traces Jaeger holds with a span tagged with this deletion request's id. */
  const tracesOf = async (id: string): Promise<JaegerTrace[]> => {
    const query = new URLSearchParams({
      service: SERVICE,
      tags: JSON.stringify({ 'deletion.request_id': id }),
      lookback: '1h',
      limit: '100',
    });
    const response = await fetch(`${jaeger.queryUrl}/api/traces?${query.toString()}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { data: JaegerTrace[] | null }).data ?? [];
  };

  it('finds every trace of the deletion by its id, the purge linked to the request', async () => {
    const subjectId = newSubjectId('jaeger');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const client = createDeletionClient({
      address: `127.0.0.1:${String(replica.ports.grpcPort)}`,
      auth: { token: cast.self.token },
    });
    try {
      const created = await client.requestDeletion({ subjectId, reason: 'leaving' });
      const code = await t.smtp.waitForCode(t.emailOf(subjectId));
      await client.confirmDeletion({ name: created.name, code });
      await expect
        .poll(async () => (await client.getDeletionRequest({ name: created.name })).state, {
          timeout: 30_000,
          interval: 200,
        })
        .toBe(DeletionRequest_State.STATE_COMPLETED);
      const done = await client.getDeletionRequest({ name: created.name });
      const id = created.name.split('/')[1]!;
      // The traces of its life, as the resource (and deletionctl timeline) names them.
      const lifeTraces = [
        ...new Set([done.createTraceId, ...done.history.map((change) => change.traceId)]),
      ];
      expect(lifeTraces.length).toBeGreaterThanOrEqual(3);
      expect(lifeTraces).not.toContain('');

      // Jaeger finds them by the request's id.
      let traces: JaegerTrace[] = [];
      await expect
        .poll(
          async () => {
            traces = await tracesOf(id);
            // A trace is listed once its first spans arrive: wait for the purge's root span too.
            const rooted = traces.some((trace) =>
              trace.spans.some((span) => span.operationName === 'deletion.purge'),
            );
            return rooted ? traces.map((trace) => trace.traceID) : [];
          },
          { timeout: 30_000, interval: 500 },
        )
        .toEqual(expect.arrayContaining(lifeTraces));
      const spans = traces.flatMap((trace) =>
        trace.spans.map((span) => ({ ...span, service: trace.processes[span.processID] })),
      );
      const names = new Set(spans.map((span) => span.operationName));
      for (const step of [
        'grpc.deletion.v1.DeletionService/RequestDeletion',
        'deletion.request_deletion',
        'grpc.deletion.v1.DeletionService/ConfirmDeletion',
        'deletion.verify',
        'deletion.soft_delete',
        'deletion.purge',
        'participant.erase',
        'grpc.deletion.participant.v1.ErasureParticipantService/Erase',
        'deletion.erase_local',
      ])
        expect(names, step).toContain(step);
      expect(new Set(spans.map((span) => span.service?.serviceName))).toEqual(new Set([SERVICE]));

      // The purge trace follows from the trace that scheduled the deletion.
      const scheduled = done.history.find(
        (change) => change.toState === DeletionRequest_State.STATE_SCHEDULED,
      )!;
      const purge = spans.find((span) => span.operationName === 'deletion.purge')!;
      expect(purge.traceID).not.toBe(scheduled.traceId);
      for (const earlier of [done.createTraceId, scheduled.traceId])
        expect(purge.references).toContainEqual(
          expect.objectContaining({ refType: 'FOLLOWS_FROM', traceID: earlier }),
        );
      expect(JSON.stringify(traces)).not.toContain(subjectId);
      console.log(
        `JAEGER found ${String(traces.length)} traces (${String(spans.length)} spans) of ${id}`,
      );
    } finally {
      client.close();
    }
  });
});
