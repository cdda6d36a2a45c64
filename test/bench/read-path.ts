// Read path: GetDeletionRequest over gRPC of a service replica against a bare
// grpc-js server whose handler does the same findOne on the same database
// (test/bench/lib/floor-server.ts), at 16 and 64 calls in flight, loaded by
// h2load with one pre-encoded gRPC frame; rounds alternate between the two.
//   node --import tsx test/bench/read-path.ts [--rounds=5] [--seconds=5]
// Every answer is checked to be a message, not an error: h2load counts HTTP 200
// as success whatever the grpc-status, so real grpc-js calls check the status
// and each run's response bytes per call must be the message's frame.
// Loopback only, bounded by rounds × levels × seconds. MONGODB_URI to use a running database.
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { DeletionRequest } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { GetDeletionRequestRequest } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { startBenchEnv } from './lib/bench-env.js';
import {
  assertWholeAnswers,
  grpcFrame,
  grpcHeaders,
  runH2load,
  type H2loadResult,
} from './lib/h2load.js';
import { numberArgs, reportResult, quick } from './lib/report.js';
import { alternate, levelFigures, roundsOf, type SideBySide } from './lib/side-by-side.js';
import { receiptRecorded } from './lib/service.js';

const args = numberArgs(quick ? { rounds: 1, seconds: 2 } : { rounds: 5, seconds: 5 });
const levels = quick ? [16] : [16, 64];
const METHOD = '/deletion.v1.DeletionService/GetDeletionRequest';

const env = await startBenchEnv();
try {
  await env.seedAccounts('bench-subject-', 1);
  const clientOf = (port: number) =>
    createDeletionClient({
      address: `127.0.0.1:${String(port)}`,
      auth: { token: env.token },
      retry: { attempts: 1 },
    });
  const clients = {
    ours: clientOf(env.replica.ports.grpcPort),
    floor: clientOf(env.floor.ports.grpcPort),
  };
  const { name } = await clients.ours.requestDeletion({
    subjectId: 'bench-subject-0',
    reason: 'bench',
  });
  await receiptRecorded(clients.ours, name);
  // Real calls: a status 0 and the message each side answers, whose frame size every run must match.
  const frameBytes = {
    ours:
      5 + DeletionRequest.encode(await clients.ours.getDeletionRequest({ name })).finish().length,
    floor:
      5 + DeletionRequest.encode(await clients.floor.getDeletionRequest({ name })).finish().length,
  };
  const body = grpcFrame(GetDeletionRequestRequest.encode({ name }).finish());
  const measure = (inFlight: number) => async (side: 'ours' | 'floor') => {
    const port = side === 'ours' ? env.replica.ports.grpcPort : env.floor.ports.grpcPort;
    const result = await runH2load({
      url: `http://127.0.0.1:${String(port)}${METHOD}`,
      inFlight,
      seconds: args.seconds,
      headers: grpcHeaders(env.token),
      body,
    });
    assertWholeAnswers(side, result, { bytes: frameBytes[side], inFlight });
    return result;
  };
  const runs = new Map<number, SideBySide<H2loadResult>>();
  for (const inFlight of levels)
    runs.set(inFlight, await alternate(args.rounds, measure(inFlight)));
  // And still answering correctly after the load (a backlog may take a while to drain: a minute).
  await Promise.all([
    clients.ours.getDeletionRequest({ name }, { deadlineMs: 60_000 }),
    clients.floor.getDeletionRequest({ name }, { deadlineMs: 60_000 }),
  ]);
  clients.ours.close();
  clients.floor.close();

  reportResult({
    benchmark: 'read-path: GetDeletionRequest over gRPC vs a bare grpc-js findOne',
    setup: {
      rounds: args.rounds,
      seconds: args.seconds,
      inFlight: levels.join(','),
      load: 'h2load, 4 connections, pre-encoded frame',
      rateLimits: 'raised (RATE_LIMIT_READS)',
    },
    figures: levels.flatMap((inFlight) => {
      const level = runs.get(inFlight);
      return level ? levelFigures(`${String(inFlight)} in flight`, level, 0.8) : [];
    }),
    details: {
      frameBytes,
      rounds: Object.fromEntries(
        [...runs].map(([inFlight, level]) => [String(inFlight), roundsOf(level)]),
      ),
    },
  });
} finally {
  await env.stop();
}
