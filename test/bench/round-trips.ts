// Database round trips of a deletion's whole life, on both write protocols: N
// subjects ask for deletion (RequestDeletion; its receipt, sent after the call
// answered, counted apart), confirm with a step-up (grace period 0; notices
// by SMTP), then the worker's passes run until the bench sees (on its own
// connection, not counted) every request COMPLETED and nothing more owed
// (purge with five linked services, notices, final notice, report, key
// shredding). Every command the service sends is counted, by command
// and collection (`find deletion_requests`); a pass's own queries are shared by
// the N requests it handles, as they are in production.
//   node --import tsx test/bench/round-trips.ts [--deletions=20] [--participants=5]
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { connectMongo, serverTraits } from '../../src/persistence/mongo/mongo-connection.js';
import type { WriteProtocol } from '../../src/persistence/mongo/request-writes.js';
import { participantsConfig, startFakeParticipant } from '../support/fake-participant.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { countRoundTrips, type RoundTrips } from './lib/round-trips.js';
import { numberArgs, quick, reportResult, round3, type Figure } from './lib/report.js';
import { benchAccount, benchEnv, serviceToken, stepUpAuth } from './lib/service.js';

const args = numberArgs({ deletions: quick ? 5 : 20, participants: 5 });
const MAX_PASSES = 20;

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
// Notices go to a real SMTP server, as in production (the dev mailbox would be database writes).
const smtp = await startSmtpSink();
const fakes = await Promise.all(
  Array.from({ length: args.participants }, (_, i) =>
    startFakeParticipant(`linked-${String(i + 1)}`, { delayMs: 1 }),
  ),
);

/** Requests not finished for good: not COMPLETED with the key destroyed, or owing notices or audit. */
const owing = (connection: mongoose.Connection) =>
  connection.collection('deletion_requests').countDocuments({
    $or: [
      { state: { $ne: 'COMPLETED' } },
      { subjectKeyDestroyedAt: null },
      { noticesOwed: true },
      { auditDueAt: { $ne: null } },
    ],
  });

/** The round trips of N lifecycles on `protocol`, on a fresh database. */
const countLifecycles = async (protocol: WriteProtocol) => {
  const dbName = `bench_rt_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
  const subjects = Array.from({ length: args.deletions }, (_, i) => `rt-${String(i)}`);
  await connection.collection('accounts').insertMany(subjects.map(benchAccount));
  await connection
    .collection('sessions')
    .insertMany(subjects.map((subjectId) => ({ subjectId, device: 'bench' })));
  const names: string[] = [];
  let passes = 0;
  const counted = await countRoundTrips(
    {
      databaseUri: database.uri,
      dbName,
      token: await serviceToken(),
      env: {
        ...benchEnv(database.uri, dbName),
        WRITE_PROTOCOL: protocol,
        GRACE_PERIOD_SECONDS: '0',
        NOTIFIER: 'smtp',
        SMTP_URL: smtp.url,
        PARTICIPANTS: participantsConfig(fakes),
        BREAKER_LIMIT: String(args.deletions * 2),
        BREAKER_REQUESTER_LIMIT: String(args.deletions * 2),
      },
    },
    {
      request: async ({ client, app, phase }) => {
        for (const subjectId of subjects) {
          const auth = await stepUpAuth(subjectId);
          phase('request');
          names.push((await client.requestDeletion({ subjectId, reason: '' }, { auth })).name);
          // The receipt goes out after the call has answered (before the subject confirms).
          phase('receipt');
          await app.deps.afterwards.settled();
        }
      },
      confirmToCompleted: async ({ client, app }) => {
        for (const [i, name] of names.entries())
          await client.confirmDeletion({ name }, { auth: await stepUpAuth(subjects[i] ?? '') });
        await app.deps.afterwards.settled();
        // Passes run until this bench sees, on its own (uncounted) connection, nothing owed.
        for (passes = 0; passes < MAX_PASSES && (await owing(connection)) > 0; passes += 1) {
          const pass = await app.runWorkerPass();
          if (pass.failures.length > 0) throw new Error(JSON.stringify(pass.failures));
          await app.deps.afterwards.settled();
        }
      },
    },
  );
  const requests = connection.collection('deletion_requests');
  const done = await requests.countDocuments({
    state: 'COMPLETED',
    subjectKeyDestroyedAt: { $ne: null },
  });
  await connection.dropDatabase();
  await connection.close();
  if (done !== args.deletions)
    throw new Error(`${protocol}: ${String(done)} of ${String(args.deletions)} completed`);
  return {
    request: counted.request,
    receipt: counted.receipt,
    confirmToCompleted: counted.confirmToCompleted,
    passes,
  };
};

const perDeletion = (trips: RoundTrips | undefined): RoundTrips => ({
  total: round3((trips?.total ?? Number.NaN) / args.deletions),
  byCommand: Object.fromEntries(
    Object.entries(trips?.byCommand ?? {})
      .sort(([, a], [, b]) => b - a)
      .map(([command, count]) => [command, round3(count / args.deletions)]),
  ),
});

const probe = await connectMongo({ uri: database.uri, dbName: 'admin' });
const traits = await serverTraits(probe);
await probe.close();
const serverPath: WriteProtocol = traits.compareAndSet ? 'compare-and-set' : 'version-claims';
const otherPath: WriteProtocol =
  serverPath === 'compare-and-set' ? 'version-claims' : 'compare-and-set';

const results = {
  [serverPath]: await countLifecycles(serverPath),
  [otherPath]: await countLifecycles(otherPath),
};
const lifecycle = (protocol: WriteProtocol) => perDeletion(results[protocol]?.confirmToCompleted);
const goals: Record<WriteProtocol, number> = { 'compare-and-set': 22, 'version-claims': 35 };
const deletionFigure = (protocol: WriteProtocol, name: string): Figure => ({
  name,
  value: lifecycle(protocol).total,
  unit: 'commands',
  goal: `≤ ${String(goals[protocol])}`,
  met: lifecycle(protocol).total <= goals[protocol],
});
const requestDeletion = (protocol: WriteProtocol) => perDeletion(results[protocol]?.request);
const requestFigure = (protocol: WriteProtocol, name: string): Figure => ({
  name,
  value: requestDeletion(protocol).total,
  unit: 'commands',
  goal: '≤ 4',
  met: requestDeletion(protocol).total <= 4,
});

reportResult({
  benchmark: 'round-trips: database commands of a whole deletion, confirm → COMPLETED',
  setup: {
    deletions: args.deletions,
    participants: args.participants,
    database: database.label,
    server: traits.name,
    serverPath,
    gracePeriodSeconds: 0,
  },
  figures: [
    deletionFigure(serverPath, 'database round trips per deletion'),
    deletionFigure(otherPath, `database round trips per deletion, ${otherPath}`),
    requestFigure(serverPath, 'database round trips per RequestDeletion'),
    requestFigure(otherPath, `database round trips per RequestDeletion, ${otherPath}`),
  ],
  details: Object.fromEntries(
    Object.entries(results).map(([protocol, counted]) => [
      protocol,
      {
        workerPasses: counted.passes,
        requestDeletion: perDeletion(counted.request),
        receiptAfterRequestDeletion: perDeletion(counted.receipt),
        confirmToCompleted: perDeletion(counted.confirmToCompleted),
      },
    ]),
  ),
});

for (const fake of fakes) await fake[Symbol.asyncDispose]();
await smtp[Symbol.asyncDispose]();
await database.stop();
