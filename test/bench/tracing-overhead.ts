// Tracing overhead: GetDeletionRequest throughput of a service process with the
// OpenTelemetry SDK on (batch span processor, OTLP/HTTP to a local receiver) against
// one with it off, side by side in one run, alternating rounds; medians and ratio.
//   node --import tsx test/bench/tracing-overhead.ts [--rounds=5] [--seconds=3] [--concurrency=16]
// Loopback only, bounded by rounds × seconds. MONGODB_URI to use a running database.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { startEmbeddedDatabase } from '../../src/embedded/embedded-database.js';
import { killReplica, startReplica, type Replica } from '../support/replica.js';
import { mintToken } from '../support/tokens.js';
import { againstFloor, median, numberArgs, reportResult } from './lib/report.js';
import { benchEnv } from './lib/service.js';

const quick = process.env.BENCH_QUICK === '1';
const { rounds, seconds, concurrency } = numberArgs({
  rounds: quick ? 1 : 5,
  seconds: quick ? 1 : 3,
  concurrency: 16,
});

/** A sink for OTLP/HTTP: answers 200 to every export and counts the bytes. */
const receiver = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => (received += chunk.length));
  request.on('end', () => response.end());
});
let received = 0;
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const otlp = `http://127.0.0.1:${String((receiver.address() as AddressInfo).port)}`;

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const dbName = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const base = {
  ...benchEnv(database.uri, dbName),
  WORKER_ENABLED: 'false',
  GRACE_PERIOD_SECONDS: '86400',
  // A benchmark measures the cost of checking a budget, not the refusals of a spent one.
  RATE_LIMIT_READS: '1000000000',
};
const off = await startReplica(base);
const on = await startReplica(
  { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_METRICS_EXPORTER: 'none' },
  ['./src/telemetry/otel-bootstrap.ts'],
);

// One request to read: an account and its deletion, requested by a service.
const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
await connection.collection('accounts').insertOne({
  _id: 'bench-subject' as never,
  email: 'bench@example.test',
  roles: ['member'],
  flagged: false,
  jurisdiction: 'GDPR',
  locale: 'en',
  status: 'ACTIVE',
});
await connection.close();
const token = await mintToken({
  sub: 'bench',
  scope: 'deletion:request deletion:read',
  service: true,
  expiresInSeconds: 3600,
});
// A crashed bench must not leave service processes behind.
process.once('exit', () => [off, on].forEach((replica) => replica.kill('SIGKILL')));
const clientOf = (replica: Replica) =>
  createDeletionClient({
    address: `127.0.0.1:${String(replica.ports.grpcPort)}`,
    auth: { token },
    retry: { attempts: 1 },
  });
const clients = { off: clientOf(off), on: clientOf(on) };
const { name } = await clients.off.requestDeletion({ subjectId: 'bench-subject', reason: 'bench' });

/** Calls GetDeletionRequest from `concurrency` loops for `seconds`; calls per second. */
const round = async (client: ReturnType<typeof clientOf>): Promise<number> => {
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await client.getDeletionRequest({ name });
        calls += 1;
      }
    }),
  );
  return calls / seconds;
};

const results: Record<'off' | 'on', number[]> = { off: [], on: [] };
await round(clients.off); // warm-up of both
await round(clients.on);
for (let i = 0; i < rounds; i += 1) {
  // Alternate which goes first, so drift on this shared machine falls on both.
  for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const))
    results[mode].push(await round(clients[mode]));
}

const offMedian = median(results.off);
const onMedian = median(results.on);
reportResult({
  benchmark: 'Tracing overhead: GetDeletionRequest over gRPC, SDK on vs off, same database',
  setup: { rounds, seconds, concurrency, exporter: 'OTLP/HTTP to a local sink, batch processor' },
  figures: [
    againstFloor(
      {
        name: `tracing on: calls/s (floor: tracing off), ${String(concurrency)} in flight`,
        value: onMedian,
        unit: '/s',
        floor: offMedian,
      },
      { higherIsBetter: true, goalRatio: 0.9 },
    ),
  ],
  details: {
    tracingOffCallsPerSecond: results.off.map(Math.round),
    tracingOnCallsPerSecond: results.on.map(Math.round),
    otlpBytesReceived: received,
  },
});

clients.off.close();
clients.on.close();
await Promise.all([killReplica(off), killReplica(on)]);
await database.stop();
receiver.close();
