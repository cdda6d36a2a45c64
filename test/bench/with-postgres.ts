// Runs a command against FerretDB on PostgreSQL instead of the embedded FerretDB
// on SQLite: a throwaway PostgreSQL cluster (Debian's `postgresql` package;
// `apt-get install postgresql`) and the same FerretDB build with its postgresql
// handler, both on loopback; MONGODB_URI is set for the command, and everything
// is stopped and removed after it (also on Ctrl-C). Every benchmark reads MONGODB_URI.
//   node --import tsx test/bench/with-postgres.ts -- node --import tsx test/bench/end-to-end.ts
// PostgreSQL runs with synchronous_commit=off (a crash may lose the last
// commits, never consistency): the durability of the embedded default, SQLite's
// WAL mode with synchronous=NORMAL.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { constants, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  hostEnvironment,
  spawnTracked,
  stopTracked,
  type TrackedProcess,
} from '../../src/embedded/child-process.js';
import {
  defaultCacheDir,
  waitUntilAccepting,
  withoutFerretDbVariables,
} from '../../src/embedded/embedded-database.js';
import { ensureFerretDbBinary } from '../../src/embedded/ferretdb-binary.js';

const command = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
if (command.length === 0) throw new Error('usage: with-postgres.ts -- <command> [args]');

/** The newest PostgreSQL of Debian's layout (/usr/lib/postgresql/<major>/bin). */
const postgresBin = (): string => {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = majors.map((major) => join(root, major, 'bin')).find((dir) => existsSync(dir));
  if (bin === undefined) throw new Error('PostgreSQL is not installed: apt-get install postgresql');
  return bin;
};

const freePort = async (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
const asRoot = userInfo().uid === 0;
const run = (binary: string, args: readonly string[]): void => {
  const [file, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
    : [binary, [...args]];
  const result = spawnSync(file, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} failed`);
};
const idOf = (flag: '-u' | '-g'): number => {
  const id = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0)
    throw new Error('running as root needs a `postgres` user (Debian makes one)');
  return Number(id.stdout);
};

/** Runs the command with MONGODB_URI; its exit code (128 + the signal's number if killed). */
const runCommand = (uri: string, ferret: TrackedProcess): Promise<number> =>
  new Promise((resolve) => {
    const [file = '', ...args] = command;
    const child = spawn(file, args, {
      stdio: 'inherit',
      env: { ...process.env, MONGODB_URI: uri },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    // A database gone mid-run ends the run: its figures would be errors.
    void ferret.exited.then(() => child.kill('SIGTERM'));
    child.once('error', (error) => {
      process.stderr.write(`[with-postgres] ${file}: ${error.message}\n`);
    });
    child.once('close', (code, signal) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });

const bin = postgresBin();
const dir = await mkdtemp(join(tmpdir(), 'bench-postgres-'));
const data = join(dir, 'data');
let ferret: TrackedProcess | undefined;
let exitCode = 1;
try {
  if (asRoot) chownSync(dir, idOf('-u'), idOf('-g'));
  const pgPort = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres']);
  run(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-o',
    `-p ${String(pgPort)} -k ${dir} -c listen_addresses=127.0.0.1 -c synchronous_commit=off`,
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    'start',
  ]);
  run(join(bin, 'createdb'), ['-h', dir, '-p', String(pgPort), '-U', 'postgres', 'ferretdb']);
  const binary = await ensureFerretDbBinary(defaultCacheDir(), (line) => {
    process.stderr.write(`[with-postgres] ${line}\n`);
  });
  const port = await freePort();
  ferret = spawnTracked(
    binary,
    [
      '--handler=postgresql',
      `--postgresql-url=postgres://postgres@127.0.0.1:${String(pgPort)}/ferretdb`,
      `--listen-addr=127.0.0.1:${String(port)}`,
      `--state-dir=${dir}`,
      '--debug-addr=-',
      '--telemetry=disable',
      // Its output is kept only for an error at start (every refused duplicate key, which
      // version claims expect, is an error line).
      '--log-level=error',
    ],
    { env: withoutFerretDbVariables(hostEnvironment()) },
  );
  await waitUntilAccepting(ferret, port, 'FerretDB (postgresql)');
  process.stderr.write(`[with-postgres] FerretDB on PostgreSQL at 127.0.0.1:${String(port)}\n`);
  exitCode = await runCommand(`mongodb://127.0.0.1:${String(port)}/`, ferret);
} finally {
  try {
    if (ferret !== undefined) await stopTracked(ferret);
    if (existsSync(join(data, 'postmaster.pid')))
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
process.exit(exitCode);
