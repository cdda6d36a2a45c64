// Tracing overhead: GetDeletionRequest throughput of a service process with the
// OpenTelemetry SDK on (batch span processor, OTLP/HTTP to a local receiver) against
// one with it off, side by side in one run, alternating rounds; medians and ratio.
//   node --import tsx test/bench/tracing-overhead.ts [rounds=5] [seconds=3] [concurrency=16]
// Loopback only, bounded by rounds × seconds. MONGODB_URI to use a running database.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { startEmbeddedDatabase } from '../../src/embedded/embedded-database.js';
import { killReplica, startReplica, type Replica } from '../support/replica.js';
import { mintToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../support/tokens.js';

const [rounds = 5, seconds = 3, concurrency = 16] = process.argv.slice(2).map(Number);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

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
  MONGODB_URI: database.uri,
  MONGODB_DB: dbName,
  JWT_ISSUER: TEST_ISSUER,
  JWT_AUDIENCE: TEST_AUDIENCE,
  JWT_HS256_SECRET: TEST_SECRET,
  OTP_SECRET: 'bench-only-otp-secret-0123456789abcdef',
  WORKER_ENABLED: 'false',
  GRACE_PERIOD_SECONDS: '86400',
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
console.log(
  JSON.stringify(
    {
      benchmark: 'GetDeletionRequest over gRPC, one service process each, same database',
      rounds,
      seconds,
      concurrency,
      tracingOffCallsPerSecond: results.off.map(Math.round),
      tracingOnCallsPerSecond: results.on.map(Math.round),
      medianOff: Math.round(offMedian),
      medianOn: Math.round(onMedian),
      ratioOnToOff: Number((onMedian / offMedian).toFixed(3)),
      otlpBytesReceived: received,
    },
    null,
    2,
  ),
);

clients.off.close();
clients.on.close();
await Promise.all([killReplica(off), killReplica(on)]);
await database.stop();
receiver.close();
