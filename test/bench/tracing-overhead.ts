// Tracing overhead: GetDeletionRequest over gRPC of a service replica with the
// OpenTelemetry SDK on (batch span processor, OTLP/HTTP to a local receiver)
// against one with it off, on the same database, loaded by h2load with one
// pre-encoded gRPC frame (a Node client would cost the machine more than the
// tracing does); rounds alternate, medians and ratio.
//   node --import tsx test/bench/tracing-overhead.ts [--rounds=5] [--seconds=5] [--concurrency=16]
// Every run's response bytes per call must be the message's frame (h2load counts
// HTTP 200 as success whatever the grpc-status), and real calls check the status.
// Also each replica's CPU per call (/proc), steadier than throughput on a shared machine.
// Loopback only, bounded by rounds × seconds. MONGODB_URI to use a running database;
// BENCH_CPU_PROF=dir profiles both replicas (the larger pid is the one traced).
// OTEL_* variables reach the traced replica: OTEL_TRACES_SAMPLER=always_off measures
// context propagation alone; OTEL_NODE_ENABLED_INSTRUMENTATIONS=mongodb adds the driver's spans.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mongoose from 'mongoose';
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { DeletionRequest } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { GetDeletionRequestRequest } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { startReplica, type Replica } from '../support/replica.js';
import { profiled, stopReplica } from './lib/bench-env.js';
import { assertWholeAnswers, grpcFrame, grpcHeaders, runH2load } from './lib/h2load.js';
import { withCpuOf } from './lib/process-cpu.js';
import { againstFloor, median, numberArgs, reportResult, round3, quick } from './lib/report.js';
import { alternate, levelFigures, roundsOf } from './lib/side-by-side.js';
import { benchAccount, benchEnv, receiptRecorded, serviceToken } from './lib/service.js';

const { rounds, seconds, concurrency } = numberArgs({
  rounds: quick ? 1 : 5,
  seconds: quick ? 1 : 5,
  concurrency: 16,
});
const METHOD = '/deletion.v1.DeletionService/GetDeletionRequest';

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
// A crashed bench must not leave service processes behind.
const started: Replica[] = [];
process.once('exit', () => started.forEach((replica) => replica.kill('SIGKILL')));
const startTracked = async (...args: Parameters<typeof startReplica>) => {
  const replica = await startReplica(...args);
  started.push(replica);
  return replica;
};
const replicas = {
  off: await startTracked(profiled(base)),
  on: await startTracked(
    profiled({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_METRICS_EXPORTER: 'none' }),
    ['./src/telemetry/otel-bootstrap.ts'],
  ),
};
try {
  // One request to read: an account and its deletion, requested by a service.
  const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
  await connection.collection('accounts').insertOne(benchAccount('bench-subject'));
  await connection.close();
  const token = await serviceToken();
  const clientOf = (replica: Replica) =>
    createDeletionClient({
      address: `127.0.0.1:${String(replica.ports.grpcPort)}`,
      auth: { token },
      retry: { attempts: 1 },
    });
  const clients = { off: clientOf(replicas.off), on: clientOf(replicas.on) };
  const { name } = await clients.off.requestDeletion({
    subjectId: 'bench-subject',
    reason: 'bench',
  });
  await receiptRecorded(clients.off, name);
  // Real calls: a status 0 and the message, whose frame size every run must match.
  const frameBytes =
    5 + DeletionRequest.encode(await clients.on.getDeletionRequest({ name })).finish().length;
  if (
    5 + DeletionRequest.encode(await clients.off.getDeletionRequest({ name })).finish().length !==
    frameBytes
  )
    throw new Error('the two replicas answer different messages');
  const body = grpcFrame(GetDeletionRequestRequest.encode({ name }).finish());
  const measure = (secondsOfLoad: number) => async (side: 'ours' | 'floor') => {
    const replica = side === 'ours' ? replicas.on : replicas.off;
    if (replica.pid === undefined) throw new Error(`the ${side} replica has no pid`);
    const result = await withCpuOf(replica.pid, () =>
      runH2load({
        url: `http://127.0.0.1:${String(replica.ports.grpcPort)}${METHOD}`,
        inFlight: concurrency,
        seconds: secondsOfLoad,
        headers: grpcHeaders(token),
        body,
      }),
    );
    assertWholeAnswers(side, result, { bytes: frameBytes, inFlight: concurrency });
    return result;
  };
  // A warm-up round of each (JIT, connection pools, the database's caches), not counted.
  await alternate(1, measure(quick ? 1 : 5));
  const runs = await alternate(rounds, measure(seconds));
  const cpuPerCall = (side: 'ours' | 'floor') =>
    median(runs[side].map((run) => run.cpuMs / Math.max(1, run.succeeded)));
  await Promise.all([
    clients.on.getDeletionRequest({ name }),
    clients.off.getDeletionRequest({ name }),
  ]);
  clients.off.close();
  clients.on.close();

  reportResult({
    benchmark: 'Tracing overhead: GetDeletionRequest over gRPC, SDK on (ours) vs off (floor)',
    setup: {
      rounds,
      seconds,
      inFlight: concurrency,
      load: 'h2load, pre-encoded frame',
      exporter: 'OTLP/HTTP to a local sink, batch processor',
    },
    figures: [
      ...levelFigures(`tracing on, ${String(concurrency)} in flight`, runs, 0.9),
      againstFloor(
        {
          name: 'tracing on: CPU of the replica per call',
          unit: 'ms',
          value: cpuPerCall('ours'),
          floor: cpuPerCall('floor'),
        },
        { higherIsBetter: false },
      ),
    ],
    details: {
      rounds: roundsOf(runs),
      cpuMsPerCall: {
        ours: runs.ours.map((run) => round3(run.cpuMs / Math.max(1, run.succeeded))),
        floor: runs.floor.map((run) => round3(run.cpuMs / Math.max(1, run.succeeded))),
      },
      frameBytes,
      otlpBytesReceived: received,
    },
  });
} finally {
  await Promise.all([stopReplica(replicas.off), stopReplica(replicas.on)]);
  await database.stop();
  receiver.close();
}
