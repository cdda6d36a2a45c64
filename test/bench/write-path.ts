// Write path: RequestDeletion over gRPC of a service replica against a bare
// grpc-js server whose handler does one driver insertOne (test/bench/lib/floor-server.ts),
// at 16 and 64 calls in flight; rounds alternate between the two. Also the
// database round trips of one RequestDeletion (and of one GetDeletionRequest),
// counted with the driver's command monitoring on the app composed in-process.
//   node --import tsx test/bench/write-path.ts [--rounds=5] [--seconds=5] [--accounts=20000]
// Load: each call needs a subject of its own, so one fixed h2load body cannot do;
// two Node load processes (test/bench/lib/write-load.ts) share the calls in
// flight, each a grpc-js client checking every status (a Node client saturates
// near 12k calls/s, far above either server here). RATE_LIMIT_MUTATIONS is
// raised for the replica; codes go to the dev mailbox (a database write, as in
// the default configuration).
// Loopback only, bounded by rounds × levels × seconds and by the seeded accounts.
import { fork, type ChildProcess } from 'node:child_process';
import { startBenchEnv } from './lib/bench-env.js';
import { againstFloor, numberArgs, percentile, reportResult, quick } from './lib/report.js';
import { countRoundTrips } from './lib/round-trips.js';
import { alternate, levelFigures, roundsOf, type Sample } from './lib/side-by-side.js';
import type { WriteLoadOrder, WriteLoadReport } from './lib/write-load.js';

const args = numberArgs(
  quick
    ? { rounds: 1, seconds: 2, accounts: 400, processes: 2 }
    : { rounds: 5, seconds: 5, accounts: 20_000, processes: 2 },
);
const levels = quick ? [16] : [16, 64];

const startLoader = async (): Promise<ChildProcess> => {
  const child = fork('test/bench/lib/write-load.ts', [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`load process exited (${String(code)})`)));
  });
  return child;
};

const order = (loader: ChildProcess, work: WriteLoadOrder): Promise<WriteLoadReport> =>
  new Promise((resolve) => {
    loader.once('message', (report) => resolve(report as WriteLoadReport));
    loader.send(work);
  });

const env = await startBenchEnv();
const loaders: ChildProcess[] = [];
try {
  await env.seedAccounts('bench-subject-', args.accounts + 1);
  const roundTrips = await countRoundTrips(env, {
    requestDeletion: ({ client }) =>
      client.requestDeletion({ subjectId: `bench-subject-${String(args.accounts)}`, reason: 'rt' }),
  });
  for (let i = 0; i < args.processes; i += 1) loaders.push(await startLoader());
  // Each round of each side gets a range of subjects per load process; ours need accounts.
  const share = Math.floor(args.accounts / (args.rounds * levels.length * args.processes));
  let nextRange = 0;
  let exhausted = false;
  const timedOut = { ours: 0, floor: 0 };
  const measure =
    (inFlight: number) =>
    async (side: 'ours' | 'floor'): Promise<Sample> => {
      const port = side === 'ours' ? env.replica.ports.grpcPort : env.floor.ports.grpcPort;
      const from = nextRange;
      if (side === 'ours') nextRange += share * args.processes;
      const reports = await Promise.all(
        loaders.map((loader, i) =>
          order(loader, {
            port,
            token: env.token,
            prefix: side === 'ours' ? 'bench-subject-' : `floor-${String(Date.now())}-`,
            from: side === 'ours' ? from + i * share : i * 1_000_000,
            to: side === 'ours' ? from + (i + 1) * share : (i + 1) * 1_000_000,
            inFlight: Math.max(1, Math.round(inFlight / loaders.length)),
            seconds: args.seconds,
          }),
        ),
      );
      const failed = reports.find((report) => report.failures > 0);
      if (failed)
        throw new Error(
          `${side}: ${String(failed.failures)} failed: ${String(failed.firstFailure)}`,
        );
      const calls = reports.reduce((sum, report) => sum + report.calls, 0);
      timedOut[side] += reports.reduce((sum, report) => sum + report.timedOut, 0);
      const elapsedMs = Math.max(...reports.map((report) => report.elapsedMs));
      if (elapsedMs < args.seconds * 1000 * 0.95) exhausted = true;
      const latencies = reports.flatMap((report) => report.latenciesMs);
      return {
        requestsPerSecond: calls / (elapsedMs / 1000),
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
      };
    };
  const runs = new Map<number, Awaited<ReturnType<typeof alternate>>>();
  for (const inFlight of levels)
    runs.set(inFlight, await alternate(args.rounds, measure(inFlight)));

  reportResult({
    benchmark: 'write-path: RequestDeletion over gRPC vs a bare grpc-js insertOne',
    setup: {
      rounds: args.rounds,
      seconds: args.seconds,
      inFlight: levels.join(','),
      load: `${String(args.processes)} Node load processes (grpc-js clients), a fresh subject per call`,
      rateLimits: 'raised (RATE_LIMIT_MUTATIONS)',
      subjectsRanOut: exhausted,
    },
    figures: [
      ...levels.flatMap((inFlight) => {
        const level = runs.get(inFlight);
        return level ? levelFigures(`${String(inFlight)} in flight`, level) : [];
      }),
      againstFloor(
        {
          name: 'database round trips per RequestDeletion',
          value: roundTrips.requestDeletion?.total ?? Number.NaN,
          unit: 'commands',
          floor: 1,
        },
        { higherIsBetter: false },
      ),
    ],
    details: {
      roundTrips,
      timedOut,
      rounds: Object.fromEntries(
        [...runs].map(([inFlight, level]) => [String(inFlight), roundsOf(level)]),
      ),
    },
  });
} finally {
  for (const loader of loaders) loader.kill('SIGKILL');
  await env.stop();
}
