import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import {
  findExecutable,
  hostEnvironment,
  spawnTracked,
  stopTracked,
  withoutVariables,
  type TrackedProcess,
} from './child-process.js';
import { ensureFerretDbBinary, FERRETDB_VERSION } from './ferretdb-binary.js';
import { canConnect, findFreePort } from './free-port.js';
import { findPostgresBin, startPostgres, type PostgresServer } from './postgres-server.js';
import { scrubSqliteDatabase } from './sqlite-scrub.js';
import { EarlyExitError, waitUntilReady } from './wait-until-ready.js';

/** A MongoDB-compatible server for this process: an external one, or a child process we own. */
export interface EmbeddedDatabase {
  /** mongodb:// URI reachable on 127.0.0.1 */
  readonly uri: string;
  readonly kind: 'external' | 'mongod' | 'ferretdb';
  /** What it is, for people: e.g. `FerretDB v1.24.2 on PostgreSQL 15`. */
  readonly label: string;
  /** The processes we started (none for 'external'): the server, and the storage it keeps its data in. */
  readonly pids: { readonly server?: number | undefined; readonly storage?: number | undefined };
  /**
   * Takes what was deleted from a database (by its MongoDB name) out of the
   * files the server keeps (FerretDB on PostgreSQL or SQLite); absent where
   * we cannot (an external server, mongod).
   */
  readonly scrub?: ((database: string) => Promise<void>) | undefined;
  /** Stops the server we started (no-op for 'external') and removes its data if it was a temp folder. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startEmbeddedDatabase}. */
export interface EmbeddedDatabaseOptions {
  /** MONGODB_URI from config; when set it is used as is, nothing is started (kind 'external', stop() is a no-op). */
  readonly externalUri?: string | undefined;
  /** Folder for persistent data (npm start: e.g. `<repo>/.data/db`). When undefined, a throwaway temp folder is made and removed on stop(). */
  readonly dataDir?: string | undefined;
  /** Cache folder for built binaries; default `$XDG_CACHE_HOME/account-deletion-service` or `~/.cache/account-deletion-service`. Binaries go in `<cacheDir>/bin`. */
  readonly cacheDir?: string | undefined;
  /** Progress lines (build progress, start). Default: write to process.stderr. */
  readonly log?: ((line: string) => void) | undefined;
  /**
   * FerretDB's storage: PostgreSQL when it is installed (its lookups use indexes), else
   * SQLite (no install, but every filter scans its collection). Default: the first that can run.
   */
  readonly ferretDbBackend?: 'postgresql' | 'sqlite' | undefined;
}

const LOOPBACK = '127.0.0.1';
const START_ATTEMPTS = 3;

type Log = (line: string) => void;
type ServerKind = Exclude<EmbeddedDatabase['kind'], 'external'>;

interface DataDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

interface ServerPlan {
  readonly kind: ServerKind;
  readonly label: string;
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  /** mongod logs every connection to stdout, so only FerretDB (quiet at ERROR) is forwarded to `log`. */
  readonly forwardOutput: boolean;
  args(port: number): string[];
  /** A server it stores its data in (PostgreSQL), stopped after it. */
  readonly storage?: PostgresServer | undefined;
  /** Takes what was deleted from a database out of the server's files. */
  readonly scrub?: ((database: string) => Promise<void>) | undefined;
}

interface RunningServer {
  readonly tracked: TrackedProcess;
  readonly port: number;
}

/**
 * Provides a MongoDB-compatible server on 127.0.0.1: `externalUri` if given (an empty string counts
 * as unset), else a `mongod` found on PATH, else FerretDB (built once with Go) on PostgreSQL when
 * it is installed, else FerretDB on SQLite.
 */
export async function startEmbeddedDatabase(
  options: EmbeddedDatabaseOptions,
): Promise<EmbeddedDatabase> {
  if (options.externalUri !== undefined && options.externalUri !== '') {
    return {
      uri: options.externalUri,
      kind: 'external',
      label: 'MONGODB_URI',
      pids: {},
      stop: () => Promise.resolve(),
    };
  }
  const log = options.log ?? writeToStderr;
  const dataDir = await prepareDataDir(options.dataDir);
  let plan: ServerPlan | undefined;
  try {
    plan = await planServer(dataDir.path, options, log);
    const server = await startServer(plan, log);
    return runningDatabase(plan, server, dataDir);
  } catch (error) {
    await plan?.storage?.stop();
    await dataDir.cleanup();
    throw error;
  }
}

function runningDatabase(
  plan: ServerPlan,
  server: RunningServer,
  dataDir: DataDir,
): EmbeddedDatabase {
  let stopping: Promise<void> | undefined;
  const stopOnce = async (): Promise<void> => {
    await stopTracked(server.tracked);
    await plan.storage?.stop();
    await dataDir.cleanup();
  };
  return {
    uri: `mongodb://${LOOPBACK}:${server.port}`,
    kind: plan.kind,
    label: plan.label,
    pids: { server: server.tracked.child.pid, storage: plan.storage?.pid },
    scrub: plan.scrub,
    stop: () => (stopping ??= stopOnce()),
  };
}

async function prepareDataDir(dataDir: string | undefined): Promise<DataDir> {
  if (dataDir !== undefined) {
    const path = resolve(dataDir);
    await mkdir(path, { recursive: true });
    return { path, cleanup: () => Promise.resolve() };
  }
  const path = await mkdtemp(join(tmpdir(), 'account-deletion-db-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

async function planServer(
  dataDir: string,
  options: EmbeddedDatabaseOptions,
  log: Log,
): Promise<ServerPlan> {
  const mongod = await findExecutable('mongod');
  if (mongod !== undefined) {
    return {
      kind: 'mongod',
      label: `mongod (${mongod})`,
      command: mongod,
      env: hostEnvironment(),
      forwardOutput: false,
      args: (port) => ['--dbpath', dataDir, '--bind_ip', LOOPBACK, '--port', String(port)],
    };
  }
  const command = await ensureFerretDbBinary(options.cacheDir ?? defaultCacheDir(), log);
  const backend = options.ferretDbBackend ?? (await storageKeptIn(dataDir, options, log));
  const postgresBin = backend === 'sqlite' ? undefined : await findPostgresBin();
  if (backend === 'postgresql' && postgresBin === undefined) {
    throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
  }
  const ferretDb = {
    kind: 'ferretdb' as const,
    command,
    // FerretDB reads FERRETDB_* variables as flag defaults, and its PostgreSQL driver PG*
    // ones: a developer's shell must not reconfigure our instance.
    env: withoutVariables(hostEnvironment(), ['FERRETDB_', 'PG']),
    forwardOutput: true,
  };
  const storage =
    postgresBin === undefined
      ? undefined
      : await startPostgres(postgresBin, dataDir, log).catch((error: unknown) => {
          if (backend === 'postgresql') throw error;
          log(`PostgreSQL did not start, so FerretDB runs on SQLite: ${String(error)}`);
          return undefined;
        });
  if (storage === undefined) {
    log(
      'FerretDB on SQLite scans a whole collection for every filter, so it slows down as data grows; ' +
        'with PostgreSQL installed (apt-get install postgresql) FerretDB runs on it and uses indexes',
    );
    return {
      ...ferretDb,
      label: `FerretDB ${FERRETDB_VERSION} on SQLite`,
      args: (port) => ferretDbArgs(['--handler=sqlite', sqliteUrl(dataDir)], dataDir, port),
      scrub: scrubSqliteDatabase(dataDir),
    };
  }
  return {
    ...ferretDb,
    label: `FerretDB ${FERRETDB_VERSION} on PostgreSQL ${storage.version}`,
    args: (port) =>
      ferretDbArgs(['--handler=postgresql', `--postgresql-url=${storage.url}`], dataDir, port),
    // On PostgreSQL every refused duplicate key (which version claims expect) is an error
    // line: its output is kept for an error at start only.
    forwardOutput: false,
    storage,
    // FerretDB keeps a MongoDB database in a PostgreSQL schema of the same name.
    scrub: storage.scrub,
  };
}

/**
 * The storage a persistent data folder already holds, which it keeps: data is not
 * moved between them, and a PostgreSQL that fails to start must not quietly swap in
 * an older SQLite data set. Undefined for a new or throwaway folder.
 */
async function storageKeptIn(
  dataDir: string,
  options: EmbeddedDatabaseOptions,
  log: Log,
): Promise<EmbeddedDatabaseOptions['ferretDbBackend']> {
  if (options.dataDir === undefined) return undefined;
  if (existsSync(join(dataDir, 'postgres', 'PG_VERSION'))) return 'postgresql';
  if (!(await readdir(dataDir)).some((file) => file.endsWith('.sqlite'))) return undefined;
  log(
    `${dataDir} holds FerretDB's SQLite data, so it stays on SQLite (remove the folder to start over)`,
  );
  return 'sqlite';
}

/**
 * One <database>.sqlite file per database in this folder; the URL must end with '/'.
 * Deleted rows are overwritten (secure_delete); see sqlite-scrub.ts for the log.
 * FerretDB already uses WAL; synchronous=NORMAL drops the fsync of every commit, which
 * survives a crash of any process and may lose the last commits only on power loss:
 * right for a development and test database, and it makes writes several times faster.
 */
function sqliteUrl(dataDir: string): string {
  // secure_delete: a deleted row's bytes are overwritten, not left in the page (residue on disk).
  return `--sqlite-url=file:${dataDir.split('/').map(encodeURIComponent).join('/')}/?_pragma=synchronous(normal)&_pragma=secure_delete(1)`;
}

function ferretDbArgs(handler: readonly string[], dataDir: string, port: number): string[] {
  return [
    ...handler,
    `--listen-addr=${LOOPBACK}:${port}`,
    // state.json (instance UUID, telemetry choice) lives with the data; default '.' would litter the cwd.
    `--state-dir=${dataDir}`,
    // The metrics/pprof HTTP listener defaults to 127.0.0.1:8088, which parallel instances would fight over.
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=ERROR',
  ];
}

async function startServer(plan: ServerPlan, log: Log): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const started = Date.now();
    log(`starting ${plan.label} on ${LOOPBACK}:${port}`);
    const onLine = plan.forwardOutput ? (line: string) => log(`[${plan.kind}] ${line}`) : undefined;
    const tracked = spawnTracked(plan.command, plan.args(port), { env: plan.env, onLine });
    try {
      await waitUntilAccepting(tracked, port, plan.label);
      log(`${plan.label} ready on ${LOOPBACK}:${port} after ${Date.now() - started} ms`);
      return { tracked, port };
    } catch (error) {
      await stopTracked(tracked);
      // Most likely the port was taken between findFreePort() and the server's bind; a new one fixes that.
      if (!(error instanceof EarlyExitError) || attempt >= START_ATTEMPTS) {
        throw error;
      }
      log(`${plan.label} exited during startup; retrying on another port`);
    }
  }
}

/** Waits until the child accepts connections on `port`; throws if it exits first or takes over 30 s. */
export function waitUntilAccepting(
  tracked: TrackedProcess,
  port: number,
  label: string,
): Promise<void> {
  return waitUntilReady(tracked, `${label} on ${LOOPBACK}:${port}`, () => canConnect(port));
}

/** Where built binaries are cached: `$XDG_CACHE_HOME/account-deletion-service` or `~/.cache/account-deletion-service`. */
export function defaultCacheDir(): string {
  const xdg = hostEnvironment().XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'account-deletion-service');
}

function writeToStderr(line: string): void {
  process.stderr.write(`[embedded-db] ${line}\n`);
}
