// End to end: N deletions through the whole lifecycle over gRPC (RequestDeletion by
// the subject, ConfirmDeletion with a fresh MFA step-up, grace period 0, purge with
// five linked services each answering in 20 ms, final notice, report, key shredding)
// with 1, then 2 service replicas on one database. Completed deletions per second
// from the first confirm to the last COMPLETED, p50/p99 from confirm to COMPLETED
// (read from each request's own history), and the CPU each process used per
// deletion over the whole run (request to COMPLETED): the service replicas, FerretDB
// and PostgreSQL (the embedded database only; linked services run in this process).
//   node --import tsx test/bench/end-to-end.ts [--deletions=600] [--replicas=2] [--first=1]
//     [--participants=5] [--delay=20] [--callers=16] [--concurrency=N (WORKER_CONCURRENCY)]
//     [--interval=20 (WORKER_INTERVAL_MS; 0: the default)] [--commands=1]
// --commands=1 also counts the replicas' database commands per deletion, by command and
// collection (in the details; the monitoring costs a little CPU, so it is off by default).
// Loopback only; bounded by --timeout seconds per replica count.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { createTestClient } from '../support/grpc-test-client.js';
import { startReplica, type Replica } from '../support/replica.js';
import { profiled, stopReplica } from './lib/bench-env.js';
import { cpuMsOf, treeCpuMsOf } from './lib/process-cpu.js';
import { numberArgs, percentile, reportResult, round3, type Figure, quick } from './lib/report.js';
import {
  benchAccount,
  benchEnv,
  confirmedToCompleted,
  confirmsAlreadyDone,
  requestAndConfirm,
} from './lib/service.js';

const args = numberArgs({
  deletions: quick ? 40 : 600,
  replicas: 2,
  /** The first replica count to run (a run of one count: --first=3 --replicas=3). */
  first: 1,
  participants: 5,
  delay: 20,
  callers: 16,
  timeout: quick ? 60 : 300,
  /** WORKER_CONCURRENCY of the replicas; 0: the service's default. */
  concurrency: 0,
  /** WORKER_INTERVAL_MS of the replicas; 0: the service's default. */
  interval: 20,
  /** 1: count the replicas' database commands (see above). */
  commands: 0,
});

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const fakes: FakeParticipant[] = [];
for (let i = 0; i < args.participants; i += 1)
  fakes.push(await startFakeParticipant(`linked-${String(i + 1)}`, { delayMs: args.delay }));

interface RunResult {
  readonly replicas: number;
  readonly completed: number;
  readonly perSecond: number;
  readonly confirmsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** With --commands=1: the replicas' database commands per deletion, by command and collection. */
  readonly commandsPerDeletion?: Readonly<Record<string, number>>;
  /** CPU milliseconds per deletion, request to COMPLETED, by process. */
  readonly cpuMs: {
    readonly service: number;
    readonly ferretDb: number | undefined;
    readonly postgres: number | undefined;
  };
}

/** CPU milliseconds so far of the service replicas, FerretDB and PostgreSQL (those we started). */
const cpuNow = async (replicas: readonly Replica[]) => {
  const { server, storage } = database.kind === 'ferretdb' ? database.pids : {};
  const service = await Promise.all(replicas.map((replica) => cpuMsOf(replica.pid ?? 0)));
  return {
    service: service.reduce((sum, ms) => sum + ms, 0),
    ...(server !== undefined && { ferretDb: await cpuMsOf(server) }),
    ...(storage !== undefined && { postgres: await treeCpuMsOf(storage) }),
  };
};

/** The database commands the replicas sent so far, summed (each counts with COUNT_COMMANDS=1). */
const commandsOf = async (replicas: readonly Replica[]): Promise<Record<string, number>> => {
  const counts = await Promise.all(
    replicas.map(
      (replica) =>
        new Promise<Record<string, number>>((resolve) => {
          const answer = (message: unknown) => {
            if (typeof message !== 'object' || message === null || !('commands' in message)) return;
            replica.off('message', answer);
            resolve(message.commands as Record<string, number>);
          };
          replica.on('message', answer);
          replica.send('commands?');
        }),
    ),
  );
  const total: Record<string, number> = {};
  for (const [name, count] of counts.flatMap((each) => Object.entries(each)))
    total[name] = (total[name] ?? 0) + count;
  return total;
};

/** Counts per deletion, largest first, with their total. */
const perEach = (counts: Record<string, number>, deletions: number): Record<string, number> => {
  const per = (count: number) => Math.round((count / Math.max(1, deletions)) * 100) / 100;
  const sorted = Object.entries(counts).sort(([, a], [, b]) => b - a);
  const total = sorted.reduce((sum, [, count]) => sum + count, 0);
  const rows: [string, number][] = sorted.map(([name, count]) => [name, per(count)]);
  return Object.fromEntries([['total', per(total)], ...rows]);
};

/** One run: a fresh database, `replicas` service processes, N deletions. */
const run = async (replicaCount: number): Promise<RunResult> => {
  const dbName = `bench_e2e_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
  const subjects = Array.from(
    { length: args.deletions },
    (_, i) => `e2e-${String(i).padStart(5, '0')}`,
  );
  await connection.collection('accounts').insertMany(subjects.map(benchAccount));
  await connection
    .collection('sessions')
    .insertMany(subjects.map((subjectId) => ({ subjectId, device: 'bench' })));
  const env = {
    ...benchEnv(database.uri, dbName),
    GRACE_PERIOD_SECONDS: '0',
    NOTIFIER: 'dev-mailbox',
    PARTICIPANTS: participantsConfig(fakes),
    ...(args.interval > 0 && { WORKER_INTERVAL_MS: String(args.interval) }),
    ...(args.commands > 0 && { COUNT_COMMANDS: '1' }),
    ...(args.concurrency > 0 && { WORKER_CONCURRENCY: String(args.concurrency) }),
    // A benchmark of planned load, not a mass deletion: the breaker would hold it.
    BREAKER_LIMIT: String(args.deletions * 2),
    BREAKER_REQUESTER_LIMIT: String(args.deletions * 2),
  };
  const replicas: Replica[] = [];
  for (let i = 0; i < replicaCount; i += 1) replicas.push(await startReplica(profiled(env)));
  // A crashed bench must not leave service processes behind.
  const killAll = () => replicas.forEach((replica) => replica.kill('SIGKILL'));
  process.once('exit', killAll);
  const clients = replicas.map((replica) =>
    createTestClient(`127.0.0.1:${String(replica.ports.grpcPort)}`, { deadlineMs: 60_000 }),
  );

  // Each caller takes the next subject: request, then confirm with a step-up, on a
  // replica in turn (a load balancer's round robin).
  const queue = [...subjects];
  let turn = 0;
  const cpuBefore = await cpuNow(replicas);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: args.callers }, async () => {
      for (let subject = queue.shift(); subject !== undefined; subject = queue.shift()) {
        const client = clients[(turn += 1) % clients.length];
        if (client === undefined) throw new Error('no client');
        await requestAndConfirm(client, subject);
      }
    }),
  );
  const confirmSeconds = (performance.now() - started) / 1000;

  const requests = connection.collection('deletion_requests');
  const deadline = Date.now() + args.timeout * 1000;
  let completed = 0;
  while (Date.now() < deadline) {
    completed = await requests.countDocuments({ state: 'COMPLETED' });
    if (completed >= args.deletions) break;
    await sleep(250);
  }
  const cpuAfter = await cpuNow(replicas);
  const perDeletion = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined
      ? undefined
      : round3((after - before) / Math.max(1, completed));
  // Times from each request's history: confirmed (→ SCHEDULED) and COMPLETED.
  const docs = await requests
    .find({ state: 'COMPLETED' }, { projection: { history: 1 } })
    .toArray();
  const spans = docs.flatMap((doc) => confirmedToCompleted(doc) ?? []);
  const latencies = spans.map((span) => span.done - span.confirmed);
  const first = Math.min(...spans.map((span) => span.confirmed));
  const last = Math.max(...spans.map((span) => span.done));

  const commands = args.commands > 0 ? await commandsOf(replicas) : undefined;
  for (const client of clients) client.close();
  await Promise.all(replicas.map(stopReplica));
  process.off('exit', killAll);
  await connection.dropDatabase();
  await connection.close();
  return {
    replicas: replicaCount,
    completed,
    perSecond: round3(spans.length / ((last - first) / 1000)),
    confirmsPerSecond: round3(args.deletions / confirmSeconds),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: Math.max(...latencies),
    ...(commands && { commandsPerDeletion: perEach(commands, completed) }),
    cpuMs: {
      service: perDeletion(cpuBefore.service, cpuAfter.service) ?? Number.NaN,
      ferretDb: perDeletion(cpuBefore.ferretDb, cpuAfter.ferretDb),
      postgres: perDeletion(cpuBefore.postgres, cpuAfter.postgres),
    },
  };
};

const runs: RunResult[] = [];
for (let replicas = args.first; replicas <= args.replicas; replicas += 1) {
  const result = await run(replicas);
  console.error(JSON.stringify(result));
  runs.push(result);
}

const figures: Figure[] = runs.flatMap((result) => {
  const label = `${String(result.replicas)} replica${result.replicas > 1 ? 's' : ''}`;
  const all = result.completed >= args.deletions;
  return [
    {
      name: `completed deletions/s, ${label}`,
      value: result.perSecond,
      unit: '/s',
      goal: '≥ 30/s',
      met: all && result.perSecond >= 30,
    },
    { name: `confirm → COMPLETED p50, ${label}`, value: result.p50Ms, unit: 'ms' },
    { name: `confirm → COMPLETED p99, ${label}`, value: result.p99Ms, unit: 'ms' },
  ];
});
const one = runs.find((result) => result.replicas === 1);
if (one !== undefined) {
  figures.push({
    name: 'service CPU per deletion',
    value: one.cpuMs.service,
    unit: 'ms',
    goal: '≤ 20 ms',
    met: one.cpuMs.service <= 20,
  });
  if (one.cpuMs.ferretDb !== undefined)
    figures.push({ name: 'FerretDB CPU per deletion', value: one.cpuMs.ferretDb, unit: 'ms' });
  if (one.cpuMs.postgres !== undefined)
    figures.push({ name: 'PostgreSQL CPU per deletion', value: one.cpuMs.postgres, unit: 'ms' });
}
const best = runs.at(-1);
if (one && best && runs.length > 1)
  figures.push({
    name: `scaling ${String(one.replicas)} → ${String(best.replicas)} replicas`,
    value: round3(best.perSecond / one.perSecond),
    unit: '×',
  });

reportResult({
  benchmark: 'End to end: request, confirm (step-up), purge with linked services, COMPLETED',
  setup: {
    deletions: args.deletions,
    participants: args.participants,
    participantDelayMs: args.delay,
    callers: args.callers,
    gracePeriodSeconds: 0,
    database: database.label,
    workerConcurrency: args.concurrency > 0 ? args.concurrency : 'default',
  },
  figures,
  // Confirms the service carried out but answered INVALID_STATE (it retried after a slow write).
  details: { runs, confirmsAnsweredInvalidState: confirmsAlreadyDone.count },
});

for (const fake of fakes) await fake[Symbol.asyncDispose]();
await database.stop();
