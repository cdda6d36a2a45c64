// Where the time of a purge goes: the whole service in this process with an
// in-memory tracer, N deletions whose grace period is over (inserted SCHEDULED),
// five linked services answering in 20 ms; worker passes until all complete, then
// the spans summed by name (count, total, mean), largest total first.
//   node --import tsx test/bench/purge-steps.ts [--deletions=100] [--participants=5] [--delay=20]
//     [--concurrency=N (WORKER_CONCURRENCY; default: the server's)]
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { composeApp } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { dueRequest } from '../support/due-request.js';
import { participantsConfig, startFakeParticipant } from '../support/fake-participant.js';
import { installInMemoryTelemetry } from '../support/in-memory-telemetry.js';
import { numberArgs } from './lib/report.js';
import { benchEnv } from './lib/service.js';
import { developmentKit } from '../../src/dev/development-kit.js';

const args = numberArgs({ deletions: 100, participants: 5, delay: 20, concurrency: 0 });
const telemetry = installInMemoryTelemetry();
const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const fakes = await Promise.all(
  Array.from({ length: args.participants }, (_, i) =>
    startFakeParticipant(`linked-${String(i + 1)}`, { delayMs: args.delay }),
  ),
);
const dbName = `bench_steps_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const config = loadConfig({
  DELETION_ENV: 'test',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  ...benchEnv(database.uri, dbName),
  NOTIFIER: 'dev-mailbox',
  WORKER_ENABLED: 'false',
  GRACE_PERIOD_SECONDS: '0',
  PARTICIPANTS: participantsConfig(fakes),
  // 0: the service's default.
  ...(args.concurrency > 0 && { WORKER_CONCURRENCY: String(args.concurrency) }),
  BREAKER_LIMIT: String(args.deletions * 2),
  BREAKER_REQUESTER_LIMIT: String(args.deletions * 2),
});
// Command monitoring counts every database round trip, by command and collection.
const separator = database.uri.includes('?') ? '&' : '?';
const app = await composeApp(config, `${database.uri}${separator}monitorCommands=true`, {
  logger: pino({ level: 'silent' }),
  development: developmentKit,
});
await app.start();
const byCommand = new Map<string, { count: number; totalMs: number }>();
let counting = false;
const pendingCommands = new Map<number, string>();
app.connection.getClient().on('commandStarted', (event) => {
  if (!counting) return;
  const target: unknown = (event.command as Record<string, unknown>)[event.commandName];
  pendingCommands.set(
    event.requestId,
    `${event.commandName} ${typeof target === 'string' ? target : ''}`,
  );
});
app.connection.getClient().on('commandSucceeded', (event) => {
  const key = pendingCommands.get(event.requestId);
  if (key === undefined) return;
  pendingCommands.delete(event.requestId);
  const entry = byCommand.get(key) ?? { count: 0, totalMs: 0 };
  byCommand.set(key, { count: entry.count + 1, totalMs: entry.totalMs + event.duration });
});

const now = new Date();
for (let i = 0; i < args.deletions; i += 1) {
  const subjectId = `steps-${String(i)}`;
  await app.connection.collection('accounts').insertOne({
    _id: subjectId as never,
    email: `${subjectId}@example.test`,
    status: 'ACTIVE',
  });
  await app.deps.requests.insert(dueRequest(randomUUID(), subjectId, now));
}
telemetry.exporter.reset();
counting = true;

const started = performance.now();
let completed = 0;
let passes = 0;
while (completed < args.deletions && passes < 1000) {
  const pass = await app.runWorkerPass();
  completed += pass.completed;
  passes += 1;
  if (pass.failures.length > 0) console.error(pass.failures);
}
const seconds = (performance.now() - started) / 1000;

const bySpan = new Map<string, { count: number; totalMs: number }>();
for (const span of telemetry.exporter.getFinishedSpans()) {
  const ms = span.duration[0] * 1000 + span.duration[1] / 1e6;
  const entry = bySpan.get(span.name) ?? { count: 0, totalMs: 0 };
  bySpan.set(span.name, { count: entry.count + 1, totalMs: entry.totalMs + ms });
}
console.log(
  `${String(completed)} completed in ${seconds.toFixed(2)} s over ${String(passes)} passes: ` +
    `${(completed / seconds).toFixed(2)}/s, ${((seconds * 1000) / completed).toFixed(1)} ms each`,
);
console.table(
  [...bySpan.entries()]
    .sort((a, b) => b[1].totalMs - a[1].totalMs)
    .map(([name, { count, totalMs }]) => ({
      span: name,
      count,
      totalMs: Math.round(totalMs),
      perDeletionMs: Number((totalMs / completed).toFixed(2)),
      meanMs: Number((totalMs / count).toFixed(2)),
    })),
);

console.table(
  [...byCommand.entries()]
    .sort((a, b) => b[1].totalMs - a[1].totalMs)
    .map(([command, { count, totalMs }]) => ({
      command,
      count,
      perDeletion: Number((count / completed).toFixed(2)),
      totalMs: Math.round(totalMs),
      meanMs: Number((totalMs / count).toFixed(2)),
    })),
);
const roundTrips = [...byCommand.values()].reduce((sum, entry) => sum + entry.count, 0);
console.log(`${(roundTrips / completed).toFixed(1)} database round trips per deletion`);

await app.close();
for (const fake of fakes) await fake[Symbol.asyncDispose]();
await database.stop();
telemetry.uninstall();
