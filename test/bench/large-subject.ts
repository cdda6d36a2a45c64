// Scale of one subject: erasing an account with many sessions and API tokens through
// a real service process (worker on, no linked services, grace period 0). Measures
// SCHEDULED → COMPLETED, records removed per second, and the service's heap and RSS
// sampled every 100 ms over IPC (FerretDB's RSS from /proc too: the database's cost).
// Runs a small subject, then a large one, each on a fresh replica: the peak heap
// growth during the erasure must stay flat, not grow with the record count.
//   node --import tsx test/bench/large-subject.ts [--records=100000] [--small=10000]
//        [--others=0] [--control=5] [--index=1]
// --others: sessions and tokens of other subjects around it (what an index skips);
// --index=0 drops the subject_id indexes after the replica made them.
// BENCH_QUICK=1: 2,000 and 200 records. Loopback only; bounded by a 15-minute wait.
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose, { type Connection } from 'mongoose';
import { pino } from 'pino';
import { composeApp } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { dueRequest } from '../support/due-request.js';
import type { MemorySample } from '../support/worker-process.js';
import { killReplica, startReplica } from '../support/replica.js';
import { numberArgs, reportResult, round3, quick } from './lib/report.js';
import { benchAccount, benchEnv } from './lib/service.js';
import { developmentKit } from '../../src/dev/development-kit.js';

const args = numberArgs({
  records: quick ? 2_000 : 100_000,
  small: quick ? 200 : 10_000,
  others: 0,
  control: 5,
  index: 1,
});
const records = Math.min(Math.max(1, Math.floor(args.records)), 1_000_000);
const small = Math.min(Math.max(1, Math.floor(args.small)), records);
const others = Math.min(Math.max(0, Math.floor(args.others)), 1_000_000);
const control = Math.min(Math.max(1, Math.floor(args.control)), 1_000);
const withIndex = args.index !== 0;
const WAIT_MS = 15 * 60_000;
const BASELINE_MS = 2_000;
const SEED_BATCH = 1_000;
const HEAP_GOAL_MIB = 50;
const MiB = 1024 * 1024;

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const dbName = (size: number) => `bench_subject_${String(process.pid)}_${String(size)}`;
const env = (db: string) => ({
  ...benchEnv(database.uri, db),
  GRACE_PERIOD_SECONDS: '0',
  PARTICIPANTS: '[]',
  NOTIFIER: 'dev-mailbox',
  WORKER_ENABLED: 'true',
  WORKER_INTERVAL_MS: '100',
  MEMORY_SAMPLE_MS: '100',
});

/** The FerretDB process serving `uri`, found by its listen address; null for mongod or external. */
const ferretPid = async (uri: string): Promise<number | null> => {
  if (database.kind !== 'ferretdb') return null;
  const listen = `--listen-addr=${new URL(uri).host}`;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(listen)) return Number(entry);
  }
  return null;
};
const vmRss = async (pid: number | null): Promise<number> => {
  if (pid === null) return Number.NaN;
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
};
const ferret = await ferretPid(database.uri);

/** `count` documents of `subjectId` into `collection`, inserted in batches. */
const seed = async (conn: Connection, collection: string, subjectId: string, count: number) => {
  for (let from = 0; from < count; from += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, count - from) }, (_, i) => ({
      subjectId,
      n: from + i,
      device: `device-${String((from + i) % 7)}`,
      createdAt: new Date(),
    }));
    await conn.collection(collection).insertMany(batch, { ordered: false });
  }
};

const seedSubject = async (conn: Connection, subjectId: string, count: number) => {
  await conn.collection('accounts').insertOne(benchAccount(subjectId));
  await seed(conn, 'sessions', subjectId, count);
  await seed(conn, 'api_tokens', subjectId, count);
};

/** The service composed in this process, without its worker: only to write the request. */
const composeScheduler = (db: string) =>
  composeApp(
    loadConfig({ ...env(db), DELETION_ENV: 'test', WORKER_ENABLED: 'false' }),
    database.uri,
    { logger: pino({ level: 'silent' }), development: developmentKit },
  );

/** A SCHEDULED request, confirmed with a step-up and its account already suspended. */
const scheduleErasure = async (
  app: Awaited<ReturnType<typeof composeScheduler>>,
  subjectId: SubjectId,
): Promise<DeletionRequestId> => {
  const request = dueRequest(`large-${subjectId}`, subjectId);
  // Account already synced: the suspend at confirm (which revokes sessions) is not what this measures.
  const inserted = await app.deps.requests.insert(request);
  if (inserted.kind !== 'INSERTED') throw new Error(`request not inserted: ${inserted.kind}`);
  return request.id;
};

interface StoredRequest {
  _id: string;
  state: string;
  history: { to: string; at: Date }[];
  localErasure?: { accounts: number; sessions: number; apiTokens: number } | null;
  report?: { payload: string } | null;
}

const max = (values: readonly number[]) => values.reduce((a, b) => Math.max(a, b), -Infinity);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const mib = (bytes: number) => round3(bytes / MiB);

/** One erasure of a subject with `count` sessions and `count` tokens on a fresh replica. */
const run = async (count: number) => {
  const db = dbName(count);
  const conn = await mongoose.createConnection(database.uri, { dbName: db }).asPromise();
  const subjectId = `large-subject-${String(count)}` as SubjectId;
  const controlId = `control-subject-${String(count)}`;
  const seedStarted = performance.now();
  await seedSubject(conn, subjectId, count);
  await seedSubject(conn, controlId, control);
  for (let i = 0; i < others; i += SEED_BATCH) {
    const other = `other-${String(i)}`;
    await seed(conn, 'sessions', other, Math.min(SEED_BATCH, others - i));
    await seed(conn, 'api_tokens', other, Math.min(SEED_BATCH, others - i));
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // Both migrate indexes at start: composed before --index=0 drops them.
  const scheduler = await composeScheduler(db);
  const replica = await startReplica(env(db));
  const samples: MemorySample[] = [];
  const ferretSamples: { at: number; rss: number }[] = [];
  replica.on('message', (message: { memory?: MemorySample }) => {
    if (message.memory) samples.push(message.memory);
  });
  if (!withIndex) {
    for (const collection of ['sessions', 'api_tokens'])
      await conn.collection(collection).dropIndex('subject_id');
  }
  const sampleFerret = setInterval(() => {
    void vmRss(ferret).then((rss) => ferretSamples.push({ at: Date.now(), rss }));
  }, 100);
  await sleep(BASELINE_MS);
  const scheduledAt = Date.now();
  const id = await scheduleErasure(scheduler, subjectId);
  await scheduler.close();
  const requests = conn.collection<StoredRequest>('deletion_requests');
  let stored = await requests.findOne({ _id: id });
  while (stored?.state !== 'COMPLETED' && Date.now() - scheduledAt < WAIT_MS) {
    await sleep(100);
    stored = await requests.findOne({ _id: id });
  }
  const completedSeen = Date.now();
  clearInterval(sampleFerret);
  await killReplica(replica);
  if (stored?.state !== 'COMPLETED')
    throw new Error(`not completed in ${String(WAIT_MS / 1000)} s: ${String(stored?.state)}`);

  const at = (state: string) => stored.history.find((change) => change.to === state)?.at;
  const erasingAt = at('ERASING')?.getTime() ?? scheduledAt;
  const completedAt = at('COMPLETED')?.getTime() ?? completedSeen;
  const before = samples.filter((sample) => sample.at < scheduledAt);
  const during = samples.filter((s) => s.at >= scheduledAt && s.at <= completedSeen);
  const ferretBefore = ferretSamples.filter((sample) => sample.at < scheduledAt);
  const ferretDuring = ferretSamples.filter((s) => s.at >= scheduledAt && s.at <= completedSeen);
  const report = JSON.parse(stored.report?.payload ?? '{}') as { local?: unknown };
  const remaining = {
    sessions: await conn.collection('sessions').countDocuments({ subjectId }),
    apiTokens: await conn.collection('api_tokens').countDocuments({ subjectId }),
  };
  const controlLeft = {
    sessions: await conn.collection('sessions').countDocuments({ subjectId: controlId }),
    apiTokens: await conn.collection('api_tokens').countDocuments({ subjectId: controlId }),
  };
  await conn.dropDatabase();
  await conn.close();

  const seconds = (completedAt - scheduledAt) / 1000;
  const heapBaseline = mean(before.map((sample) => sample.heapUsed));
  const rssBaseline = mean(before.map((sample) => sample.rss));
  const result = {
    records: count,
    seedSeconds: round3(seedSeconds),
    seconds: round3(seconds),
    erasingToCompletedSeconds: round3((completedAt - erasingAt) / 1000),
    recordsPerSecond: Math.round((2 * count) / seconds),
    heapBaselineMiB: mib(heapBaseline),
    heapPeakMiB: mib(max(during.map((sample) => sample.heapUsed))),
    heapGrowthMiB: mib(max(during.map((sample) => sample.heapUsed)) - heapBaseline),
    rssBaselineMiB: mib(rssBaseline),
    rssPeakMiB: mib(max(during.map((sample) => sample.rss))),
    ferretRssBaselineMiB: mib(mean(ferretBefore.map((sample) => sample.rss))),
    ferretRssPeakMiB: mib(max(ferretDuring.map((sample) => sample.rss))),
    samples: during.length,
    localErasure: report.local,
    remaining,
    controlLeft,
  };
  console.error(`[large-subject] ${JSON.stringify(result)}`);
  return result;
};

const smallRun = await run(small);
const largeRun = await run(records);
await database.stop();

const expected = { accounts: 1, sessions: records, apiTokens: records };
const correct =
  JSON.stringify(largeRun.localErasure) === JSON.stringify(expected) &&
  largeRun.remaining.sessions + largeRun.remaining.apiTokens === 0 &&
  largeRun.controlLeft.sessions === control &&
  largeRun.controlLeft.apiTokens === control;
const flat =
  largeRun.heapGrowthMiB < HEAP_GOAL_MIB &&
  largeRun.heapGrowthMiB < Math.max(10, 2 * smallRun.heapGrowthMiB);
const label = (count: number) => `${String(count / 1000)}k`;
reportResult({
  benchmark: 'Erasure of one subject with many sessions and API tokens, one service process',
  setup: {
    records,
    small,
    others,
    control,
    subjectIdIndex: withIndex,
    database: database.kind,
    requestInserted: 'SCHEDULED with a step-up, account already suspended',
  },
  figures: [
    {
      name: `erase ${label(records)} sessions + ${label(records)} tokens`,
      value: largeRun.seconds,
      unit: 's',
    },
    { name: 'records removed per second', value: largeRun.recordsPerSecond, unit: 'records/s' },
    {
      name: 'peak heap growth during erasure',
      value: largeRun.heapGrowthMiB,
      unit: 'MiB',
      goal: `flat (< ${String(HEAP_GOAL_MIB)} MiB, not growing with records)`,
      met: flat,
    },
    {
      name: `peak heap growth at ${label(small)}`,
      value: smallRun.heapGrowthMiB,
      unit: 'MiB',
    },
    // Only when the benchmark started the database itself (with MONGODB_URI there is no pid).
    ...(Number.isFinite(largeRun.ferretRssPeakMiB)
      ? [
          {
            name: 'FerretDB peak RSS during erasure',
            value: largeRun.ferretRssPeakMiB,
            unit: 'MiB',
          },
        ]
      : []),
    {
      name: 'report counts exact, subject gone, control intact',
      value: correct ? 1 : 0,
      unit: 'bool',
      goal: '1',
      met: correct,
    },
  ],
  details: { small: smallRun, large: largeRun },
});
if (!correct) process.exitCode = 1;
