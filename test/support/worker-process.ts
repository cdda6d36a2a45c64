// A service replica as a child process, for crash and multi-replica tests:
// the real composition (worker on, gRPC on a free port), configured by the
// parent through the environment. The parent kills it with SIGKILL at will;
// SIGTERM ends it through exit(), so a profile asked for with --cpu-prof is written.
// MEMORY_SAMPLE_MS (opt-in, benches): also sends `{ memory }` samples of this
// process over IPC at that interval, after the ready message.
// COUNT_COMMANDS=1 (opt-in, benches): counts the database commands it sends, by
// command and collection, and answers the message 'commands?' with `{ commands }`.
import { composeApp } from '../../src/compose.js';
import { loadConfig } from '../../src/config/load-config.js';
import { commandName } from './command-name.js';
import { developmentKit } from '../../src/dev/development-kit.js';

/** One sample of this process's memory, as sent to the parent. */
export interface MemorySample {
  readonly at: number;
  readonly heapUsed: number;
  readonly rss: number;
  /** Active handles and requests (sockets, timers, servers…): a leak shows as growth. */
  readonly resources: number;
  /** The same by kind (`TCPSocketWrap`, `Timeout`…): what grew. */
  readonly resourceKinds: Readonly<Record<string, number>>;
}

const config = loadConfig({
  ...process.env,
  DELETION_ENV: 'test',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  LOG_LEVEL: 'silent',
});
process.once('SIGTERM', () => process.exit(0));
const countCommands = process.env.COUNT_COMMANDS === '1';
const givenUri = process.env.MONGODB_URI ?? '';
const mongoUri = countCommands
  ? `${givenUri}${givenUri.includes('?') ? '&' : '?'}monitorCommands=true`
  : givenUri;
const app = await composeApp(config, mongoUri, { development: developmentKit });
if (countCommands) {
  const commands: Record<string, number> = {};
  app.connection.getClient().on('commandStarted', (event) => {
    const name = commandName(event);
    commands[name] = (commands[name] ?? 0) + 1;
  });
  process.on('message', (message) => {
    if (message === 'commands?') process.send?.({ commands });
  });
}
const ports = await app.start();
process.send?.({ ready: true, ...ports });

const sampleMs = Number(process.env.MEMORY_SAMPLE_MS ?? 0);
if (sampleMs > 0) {
  setInterval(() => {
    const { heapUsed, rss } = process.memoryUsage();
    const resources = process.getActiveResourcesInfo();
    const resourceKinds: Record<string, number> = {};
    for (const kind of resources) resourceKinds[kind] = (resourceKinds[kind] ?? 0) + 1;
    const memory: MemorySample = {
      at: Date.now(),
      heapUsed,
      rss,
      resources: resources.length,
      resourceKinds,
    };
    process.send?.({ memory });
  }, sampleMs).unref();
}
