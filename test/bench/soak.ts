// Soak: one service process under a steady open-model load for --minutes (10) at
// --rate deletions per second (default SOAK_RATE, which `npm run bench` sets to half
// the end-to-end maximum it measured; else 1), each a request and a step-up confirm
// over gRPC plus --reads GetDeletionRequest calls, while one of three linked services
// flaps (every other 15 s its first answer to each request is UNAVAILABLE, so purges
// retry). Reports the p99 of the calls and of confirm → COMPLETED in the first and
// the last minute, the service's heap and active handles at start and end, and what
// is left unfinished. Loopback only; bounded by --minutes plus a 2-minute drain.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import mongoose from 'mongoose';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { createTestClient } from '../support/grpc-test-client.js';
import { killReplica, startReplica } from '../support/replica.js';
import { mintToken } from '../support/tokens.js';
import type { MemorySample } from '../support/worker-process.js';
import { numberArgs, percentile, reportResult, round3, type Figure, quick } from './lib/report.js';
import { benchAccount, benchEnv, confirmedToCompleted, requestAndConfirm } from './lib/service.js';

const args = numberArgs({
  minutes: quick ? 0.5 : 10,
  rate: Number(process.env.SOAK_RATE ?? 1),
  reads: 4,
  delay: 20,
  flapSeconds: 15,
});
const minuteMs = quick ? 10_000 : 60_000;

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const fakes: FakeParticipant[] = [];
for (const name of ['billing', 'messaging', 'flapping'])
  fakes.push(await startFakeParticipant(name, { delayMs: args.delay }));
const flapping = fakes[2];
if (flapping === undefined) throw new Error('no flapping service');

const dbName = `bench_soak_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
const replica = await startReplica({
  ...benchEnv(database.uri, dbName),
  GRACE_PERIOD_SECONDS: '0',
  NOTIFIER: 'dev-mailbox',
  PARTICIPANTS: participantsConfig(fakes, { maxAttempts: 10 }),
  WORKER_INTERVAL_MS: '50',
  RETRY_BASE_MS: '200',
  RETRY_CAP_MS: '2000',
  BREAKER_LIMIT: '1000000',
  BREAKER_REQUESTER_LIMIT: '1000000',
  RATE_LIMIT_READS: '1000000',
  MEMORY_SAMPLE_MS: '1000',
});
process.once('exit', () => replica.kill('SIGKILL'));
const memory: MemorySample[] = [];
replica.on('message', (message: { memory?: MemorySample }) => {
  if (message.memory) memory.push(message.memory);
});
const client = createTestClient(`127.0.0.1:${String(replica.ports.grpcPort)}`, {
  deadlineMs: 30_000,
});
const reader = {
  token: await mintToken({
    sub: 'soak-reader',
    scope: 'deletion:read',
    service: true,
    expiresInSeconds: 7200,
  }),
};

const started = Date.now();
const minuteOf = (at: number) => Math.floor((at - started) / minuteMs);
const calls: { at: number; ms: number }[] = [];
let failures = 0;
/** Failed calls by gRPC code and message (no personal data: ids only). */
const failedBy: Record<string, number> = {};
/** Times a call; a failure is counted (and thrown on). */
const timed = async <T>(call: () => Promise<T>): Promise<T> => {
  const at = Date.now();
  try {
    return await call();
  } catch (error) {
    failures += 1;
    const { code, reason, message } = error as {
      code?: unknown;
      reason?: string;
      message?: string;
    };
    const key = `${String(code)} ${reason ?? ''} ${(message ?? '').slice(0, 100)}`;
    failedBy[key] = (failedBy[key] ?? 0) + 1;
    throw error;
  } finally {
    calls.push({ at, ms: Date.now() - at });
  }
};

/** One deletion: request and confirm as the subject, then a few reads by a service. */
const oneDeletion = async (n: number) => {
  const subjectId = `soak-${String(n).padStart(6, '0')}`;
  await connection.collection('accounts').insertOne(benchAccount(subjectId));
  const name = await requestAndConfirm(client, subjectId, timed).catch(() => undefined);
  if (name === undefined) return;
  for (let i = 0; i < args.reads; i += 1)
    await timed(() => client.getDeletionRequest({ name }, reader)).catch(() => undefined);
};

// The flapping service: every other period, the first answer to each request fails.
const flap = setInterval(() => {
  const failing = (flapping.behaviour.failFirst ?? 0) === 0;
  flapping.behaviour = {
    delayMs: args.delay,
    failFirst: failing ? 1 : 0,
    failWith: status.UNAVAILABLE,
  };
}, args.flapSeconds * 1000);

// Open model: deletions start on a fixed schedule, whether or not earlier ones are done.
const running = new Set<Promise<void>>();
const total = Math.round(args.minutes * (60_000 / 1000) * args.rate);
for (let n = 0; n < total; n += 1) {
  const due = started + (n / args.rate) * 1000;
  if (due > Date.now()) await sleep(due - Date.now());
  const one = oneDeletion(n).finally(() => running.delete(one));
  running.add(one);
}
await Promise.all(running);
clearInterval(flap);
flapping.behaviour = { delayMs: args.delay };

// Drain: whatever is still being purged gets two minutes to finish.
const requests = connection.collection('deletion_requests');
const drainUntil = Date.now() + (quick ? 30_000 : 120_000);
let open = Infinity;
while (Date.now() < drainUntil) {
  open = await requests.countDocuments({ state: { $nin: ['COMPLETED'] } });
  if (open === 0) break;
  await sleep(1000);
}
const docs = await requests.find({}, { projection: { history: 1, state: 1 } }).toArray();
const toComplete = docs.flatMap((doc) => {
  const times = confirmedToCompleted(doc);
  return times ? [{ at: times.confirmed, ms: times.done - times.confirmed }] : [];
});
const stuck = docs.filter((doc) => doc.state !== 'COMPLETED').length;
// What the run left in the database: every read scans on FerretDB, so this is what slows it.
const collectionSizes = Object.fromEntries(
  await Promise.all(
    ((await connection.db?.listCollections({}, { nameOnly: true }).toArray()) ?? []).map(
      async ({ name }) => [name, await connection.collection(name).countDocuments()] as const,
    ),
  ),
);
/** When a request first entered `state`, from its history. */
const entered = (doc: Readonly<Record<string, unknown>>, state: string) =>
  (doc.history as readonly { to: string; at: Date }[])
    .find((change) => change.to === state)
    ?.at.getTime();
// Confirm → COMPLETED in two parts: waiting for a worker to start, then the erasure itself.
const phases = docs.flatMap((doc) => {
  const [confirmed, erasing, done] = ['SCHEDULED', 'ERASING', 'COMPLETED'].map((state) =>
    entered(doc, state),
  );
  return confirmed !== undefined && erasing !== undefined && done !== undefined
    ? [{ at: confirmed, waitMs: erasing - confirmed, eraseMs: done - erasing }]
    : [];
});

const lastMinute = minuteOf(started + args.minutes * 60_000) - 1;
const p99In = (samples: readonly { at: number; ms: number }[], minute: number) =>
  percentile(
    samples.filter((sample) => minuteOf(sample.at) === minute).map((sample) => sample.ms),
    0.99,
  );
// The live heap is the floor the collector returns to: the least heap used in a
// minute. Start: the second minute (the first warms up); end: the last minute.
const samplesIn = (minute: number) => memory.filter((sample) => minuteOf(sample.at) === minute);
const least = (samples: readonly MemorySample[], key: 'heapUsed' | 'resources') =>
  samples.length === 0 ? Number.NaN : Math.min(...samples.map((sample) => sample[key]));
const startMinute = lastMinute > 1 ? 1 : 0;
const mib = (bytes: number | undefined) => round3((bytes ?? Number.NaN) / 2 ** 20);
const drift = (first: number, last: number) => round3((last - first) / first);

const callFirst = p99In(calls, 0);
const callLast = p99In(calls, lastMinute);
const purgeFirst = p99In(toComplete, 0);
const purgeLast = p99In(toComplete, lastMinute);
const heapStart = mib(least(samplesIn(startMinute), 'heapUsed'));
const heapEnd = mib(least(samplesIn(lastMinute), 'heapUsed'));
/** A figure at the start and at the end, the end held to at most 20% above the start. */
const startAndEnd = (
  names: readonly [string, string],
  unit: string,
  [first, last]: readonly [number, number],
  goal: string,
): Figure[] => [
  { name: names[0], value: first, unit },
  { name: names[1], value: last, unit, goal, met: drift(first, last) < 0.2 },
];
const figures: Figure[] = [
  ...startAndEnd(
    ['call p99, first minute', 'call p99, last minute'],
    'ms',
    [callFirst, callLast],
    'drift < 20%',
  ),
  { name: 'call p99 drift (last / first − 1)', value: drift(callFirst, callLast), unit: '' },
  ...startAndEnd(
    ['confirm → COMPLETED p99, first minute', 'confirm → COMPLETED p99, last minute'],
    'ms',
    [purgeFirst, purgeLast],
    'drift < 20%',
  ),
  ...startAndEnd(
    ['live heap, start (least in minute 2)', 'live heap, end (least in the last minute)'],
    'MiB',
    [heapStart, heapEnd],
    'flat (< 20% growth)',
  ),
  { name: 'active handles, start', value: least(samplesIn(startMinute), 'resources'), unit: '' },
  { name: 'active handles, end', value: least(samplesIn(lastMinute), 'resources'), unit: '' },
  {
    name: 'requests not completed after the drain',
    value: stuck,
    unit: '',
    goal: '0',
    met: stuck === 0,
  },
  { name: 'failed calls', value: failures, unit: '' },
];

reportResult({
  benchmark: 'Soak: steady deletions with one linked service flapping',
  setup: {
    minutes: args.minutes,
    deletionsPerSecond: args.rate,
    readsPerDeletion: args.reads,
    deletions: total,
    flapSeconds: args.flapSeconds,
    database: database.kind,
  },
  figures,
  details: {
    callsPerMinuteP99: Array.from({ length: lastMinute + 1 }, (_, minute) => p99In(calls, minute)),
    purgePerMinuteP99: Array.from({ length: lastMinute + 1 }, (_, minute) =>
      p99In(toComplete, minute),
    ),
    waitPerMinuteP99: Array.from({ length: lastMinute + 1 }, (_, minute) =>
      p99In(
        phases.map((phase) => ({ at: phase.at, ms: phase.waitMs })),
        minute,
      ),
    ),
    erasePerMinuteP99: Array.from({ length: lastMinute + 1 }, (_, minute) =>
      p99In(
        phases.map((phase) => ({ at: phase.at, ms: phase.eraseMs })),
        minute,
      ),
    ),
    documentsAtEnd: collectionSizes,
    failedCalls: failedBy,
    /** Handles by kind in the sample with the fewest, in the start minute and the last. */
    resourceKinds: [startMinute, lastMinute].map(
      (minute) =>
        samplesIn(minute).reduce<MemorySample | undefined>(
          (fewest, sample) =>
            fewest === undefined || sample.resources < fewest.resources ? sample : fewest,
          undefined,
        )?.resourceKinds,
    ),
    heapMiB: memory.filter((_, i) => i % 30 === 0).map((sample) => mib(sample.heapUsed)),
  },
});

client.close();
await killReplica(replica);
await connection.close();
for (const fake of fakes) await fake[Symbol.asyncDispose]();
await database.stop();
