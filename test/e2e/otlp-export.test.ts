import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeletionClient as createGrpcClient } from '../../clients/grpc/deletion-client.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { killReplica, startReplica, type Replica } from '../support/replica.js';
import { mintToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../support/tokens.js';

/** A span as OTLP/JSON carries it. */
interface OtlpSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly attributes: readonly { key: string; value: Record<string, unknown> }[];
}
interface OtlpTraces {
  readonly resourceSpans: readonly {
    readonly resource: {
      readonly attributes: readonly { key: string; value: { stringValue?: string } }[];
    };
    readonly scopeSpans: readonly { readonly spans: readonly OtlpSpan[] }[];
  }[];
}

/** A local OTLP/HTTP receiver (JSON): what a collector would get from the service. */
const startReceiver = async () => {
  const batches: OtlpTraces[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces')
        batches.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    spans: () =>
      batches.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))),
    resources: () => batches.flatMap((b) => b.resourceSpans.map((r) => r.resource)),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
};

describe('the OpenTelemetry bootstrap exports OTLP from a running service', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let replica: Replica;
  beforeAll(async () => {
    receiver = await startReceiver();
    replica = await startReplica(
      {
        MONGODB_URI: inject('mongoUri'),
        MONGODB_DB: `otlp_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        JWT_ISSUER: TEST_ISSUER,
        JWT_AUDIENCE: TEST_AUDIENCE,
        JWT_HS256_SECRET: TEST_SECRET,
        OTP_SECRET: 'test-only-otp-secret-0123456789abcdef',
        WORKER_ENABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        // The driver's spans too (opt-in), so their statements are checked for the canary.
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'mongodb',
      },
      ['./src/telemetry/otel-bootstrap.ts'],
    );
  }, 60_000);
  afterAll(async () => {
    await killReplica(replica);
    await receiver.close();
  });

  it('sends the RPC spans, the HTTP span over tRPC and the database spans, with the resource', async () => {
    const token = await mintToken({ sub: 'sre-otlp', scope: 'deletion:admin' });
    const grpc = createGrpcClient({
      address: `127.0.0.1:${String(replica.ports.grpcPort)}`,
      auth: { token },
      retry: { attempts: 1 },
    });
    const trpc = createTrpcClient({
      url: `http://127.0.0.1:${String(replica.ports.httpPort)}/trpc`,
      token,
    });

    await grpc.listDeletionRequests({ pageSize: 5 });
    // A GET: the input, with a subject id, is in the URL's query.
    const canary = `canary-subject-${randomUUID()}`;
    await trpc.listDeletionRequests.query({ pageSize: 5, subjectId: canary });
    grpc.close();

    await expect
      .poll(() => receiver.spans().map((span) => span.name), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          'grpc.deletion.v1.DeletionService/ListDeletionRequests',
          'trpc.deletion.v1.DeletionService/listDeletionRequests',
          'deletion.list_deletion_requests',
        ]),
      );
    const spans = receiver.spans();
    const trpcSpan = spans.find(
      (s) => s.name === 'trpc.deletion.v1.DeletionService/listDeletionRequests',
    )!;
    const httpParent = spans.find((s) => s.spanId === trpcSpan.parentSpanId);
    expect(httpParent?.kind).toBe(2); // SERVER: the HTTP server span of instrumentation-http
    expect(httpParent?.traceId).toBe(trpcSpan.traceId);
    const database = spans.filter((s) =>
      s.attributes.some((a) => a.key === 'db.system.name' && a.value.stringValue === 'mongodb'),
    );
    // The service's own span of each database call, and the driver's of each command.
    expect(database.some((s) => s.name.startsWith('persistence.'))).toBe(true);
    expect(database.some((s) => !s.name.startsWith('persistence.'))).toBe(true);
    const resource = Object.fromEntries(
      receiver.resources()[0]!.attributes.map((a) => [a.key, a.value.stringValue]),
    );
    expect(resource['service.name']).toBe('account-deletion-service');
    expect(resource['service.version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(resource['service.instance.id']).toMatch(/\/\d+$/);
    expect(JSON.stringify(spans)).not.toMatch(/authorization|Bearer|x-api-key/i);
    expect(JSON.stringify(spans)).not.toContain(canary);
    expect(JSON.stringify(httpParent)).toContain('url.path');
  });
});
