// What the request-path benchmarks share: a database, a replica of the service
// and the floor server (each a child process: one event loop each), the
// environment they run with, seeded accounts and a service token.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import { startEmbeddedDatabase } from '../../../src/dev/embedded/embedded-database.js';
import { killReplica, startReplica, type Replica } from '../../support/replica.js';
import { benchAccount, benchEnv, serviceToken } from './service.js';

/** The ports a server process serves on. */
export interface Ports {
  readonly grpcPort: number;
  readonly httpPort: number;
}

/**
 * The rate limits are raised far above what a bench sends (RATE_LIMIT_READS,
 * RATE_LIMIT_MUTATIONS): a bench measures the cost of checking a budget, not
 * the refusals of a spent one. Everything else is the default of a test replica.
 */
const RAISED_LIMITS = {
  RATE_LIMIT_READS: '1000000000',
  RATE_LIMIT_MUTATIONS: '1000000000',
};

/** Started once per bench; `stop` ends everything it started. */
export interface BenchEnv {
  readonly databaseUri: string;
  readonly dbName: string;
  /** The environment of the replica and the floor. */
  readonly env: Readonly<Record<string, string>>;
  readonly replica: Replica;
  readonly floor: ChildProcess & { readonly ports: Ports };
  /** A service token with `deletion:request deletion:read`, valid for an hour. */
  readonly token: string;
  /** Inserts accounts `${prefix}0` … `${prefix}${count - 1}` (member, GDPR, not flagged). */
  seedAccounts(prefix: string, count: number): Promise<void>;
  stop(): Promise<void>;
}

const startFloor = async (env: Record<string, string>): Promise<BenchEnv['floor']> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/lib/floor-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ports = await new Promise<Ports>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Ports));
    child.once('exit', (code) => reject(new Error(`floor exited early (${String(code)})`)));
  });
  return Object.assign(child, { ports });
};

/**
 * A replica's environment: when BENCH_CPU_PROF=dir, it also runs with `--cpu-prof`
 * (from NODE_OPTIONS) and writes `dir/replica-<pid>.cpuprofile` when it exits.
 */
export const profiled = (env: Record<string, string>): Record<string, string> => {
  const profileDir = process.env.BENCH_CPU_PROF;
  if (!profileDir) return env;
  const cpuProf = `--cpu-prof --cpu-prof-dir="${profileDir}" --cpu-prof-name=replica-\${pid}.cpuprofile`;
  const inherited = env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? '';
  return { ...env, NODE_OPTIONS: `${inherited} ${cpuProf}`.trim() };
};

/** Ends a replica; one profiled is asked to end (SIGTERM), so it writes its profile. */
export const stopReplica = async (replica: ChildProcess): Promise<void> => {
  if (process.env.BENCH_CPU_PROF && replica.exitCode === null && replica.signalCode === null) {
    const exited = new Promise((resolve) => replica.once('exit', resolve));
    replica.kill('SIGTERM');
    // Writing a profile takes a moment; one that takes longer is given up.
    await Promise.race([exited, sleep(30_000, undefined, { ref: false })]);
  }
  await killReplica(replica);
};

/**
 * Starts the database (or uses MONGODB_URI), a replica (worker off, raised
 * limits) and the floor. BENCH_CPU_PROF=dir profiles the replica (`--cpu-prof`)
 * into dir, written when `stop` ends it.
 */
export const startBenchEnv = async (): Promise<BenchEnv> => {
  const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
  const dbName = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const env = {
    ...benchEnv(database.uri, dbName),
    WORKER_ENABLED: 'false',
    GRACE_PERIOD_SECONDS: '86400',
    ...RAISED_LIMITS,
  };
  const replica = await startReplica(profiled(env));
  const floor = await startFloor(env);
  const connection = await mongoose.createConnection(database.uri, { dbName }).asPromise();
  const token = await serviceToken();
  return {
    databaseUri: database.uri,
    dbName,
    env,
    replica,
    floor,
    token,
    seedAccounts: async (prefix, count) => {
      const batch = 1000;
      for (let start = 0; start < count; start += batch) {
        const docs = Array.from({ length: Math.min(batch, count - start) }, (_, i) =>
          benchAccount(`${prefix}${String(start + i)}`),
        );
        await connection.collection('accounts').insertMany(docs);
      }
    },
    stop: async () => {
      await connection.close();
      await Promise.all([stopReplica(replica), killReplica(floor)]);
      await database.stop();
    },
  };
};
