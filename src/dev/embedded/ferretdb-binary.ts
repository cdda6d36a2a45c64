import { execFile } from 'node:child_process';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';

import {
  errorCode,
  findExecutable,
  hostEnvironment,
  isExecutableFile,
  spawnTracked,
} from './child-process.js';

/** The FerretDB release this service is tested against. */
export const FERRETDB_VERSION = 'v1.24.2';

const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
const FALLBACK_GO = '/usr/local/go/bin/go';
const LOCK_STALE_AFTER_MS = 15 * 60_000;
const LOCK_POLL_MS = 1_000;

type Log = (line: string) => void;

/**
 * Returns the path of a working `<cacheDir>/bin/ferretdb`, building it first if it is missing or unusable.
 *
 * Concurrent callers (e.g. parallel test processes) are serialised with a lock file in `cacheDir`, and
 * the binary is renamed into place only once complete, so a half-built binary is never run.
 */
export async function ensureFerretDbBinary(cacheDir: string, log: Log): Promise<string> {
  const binary = join(cacheDir, 'bin', 'ferretdb');
  if (await isUsableBinary(binary)) {
    return binary;
  }
  await mkdir(join(cacheDir, 'bin'), { recursive: true });
  await withLockFile(join(cacheDir, 'ferretdb-build.lock'), log, async () => {
    // Whoever held the lock before us has probably just built it.
    if (await isUsableBinary(binary)) {
      return;
    }
    if (await isExecutableFile(binary)) {
      log(`cached ${binary} is not a working FerretDB ${FERRETDB_VERSION}; rebuilding it`);
    }
    await buildFerretDb(cacheDir, binary, log);
  });
  return binary;
}

/** True when `binary --version` reports the pinned version (rules out foreign, stale or broken builds). */
function isUsableBinary(binary: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      resolve(error === null && stdout.includes(`version: ${FERRETDB_VERSION}`));
    });
  });
}

async function buildFerretDb(cacheDir: string, target: string, log: Log): Promise<void> {
  const go = await findGo(
    `FerretDB ${FERRETDB_VERSION}`,
    'or set MONGODB_URI to an existing MongoDB server',
  );
  const started = Date.now();
  log(`building FerretDB ${FERRETDB_VERSION} with go (first run only, takes a few minutes)…`);
  // Same filesystem as `target`, so the final rename is atomic.
  const workDir = await mkdtemp(join(cacheDir, 'build-'));
  try {
    const sourceDir = await prepareSource(go, workDir, log);
    const output = join(workDir, 'ferretdb');
    await runGo(go, ['build', '-buildvcs=false', '-o', output, './cmd/ferretdb'], {
      cwd: sourceDir,
      log,
    });
    await rename(output, target);
  } finally {
    await removeTree(workDir);
  }
  log(
    `built FerretDB ${FERRETDB_VERSION} in ${Math.round((Date.now() - started) / 1_000)} s: ${target}`,
  );
}

/** The Go toolchain on PATH (or at the usual place); throws, saying what needs it and what else to do, when there is none. */
export async function findGo(what: string, otherwise: string): Promise<string> {
  const go =
    (await findExecutable('go')) ??
    ((await isExecutableFile(FALLBACK_GO)) ? FALLBACK_GO : undefined);
  if (go === undefined) {
    throw new Error(
      `${what} has to be built once, but no Go toolchain was found on PATH or at ${FALLBACK_GO}. ` +
        `Install Go (https://go.dev/dl/), ${otherwise}.`,
    );
  }
  return go;
}

/**
 * `go install ${FERRETDB_MODULE}/cmd/ferretdb@version` builds a binary that panics at startup:
 * build/version/version.txt is generated in FerretDB's own CI and is not part of the module zip.
 * So build a writable copy of the module source with that file filled in.
 */
async function prepareSource(go: string, workDir: string, log: Log): Promise<string> {
  const download = ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`];
  const json = await runGo(go, download, { cwd: workDir, log, captureStdout: true });
  const parsed: unknown = JSON.parse(json);
  const moduleDir =
    typeof parsed === 'object' && parsed !== null && 'Dir' in parsed ? parsed.Dir : undefined;
  if (typeof moduleDir !== 'string') {
    throw new Error(
      `go mod download did not report a source folder for ${FERRETDB_MODULE}: ${json}`,
    );
  }
  const sourceDir = join(workDir, 'src');
  await cp(moduleDir, sourceDir, { recursive: true });
  // The module cache is read-only and the copy keeps its modes.
  await makeTreeWritable(sourceDir);
  await writeFile(join(sourceDir, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  return sourceDir;
}

export interface RunGoOptions {
  readonly cwd: string;
  readonly log: Log;
  readonly captureStdout?: boolean;
}

/** Runs go in `cwd`, streaming stderr (and stdout unless captured) to `log`; returns captured stdout. */
export async function runGo(
  go: string,
  args: readonly string[],
  options: RunGoOptions,
): Promise<string> {
  const { cwd, log, captureStdout = false } = options;
  const stdout: string[] = [];
  const host = hostEnvironment();
  // GOWORK=off: a go.work above the cache folder must not change the build. CGO is not needed (pure-Go
  // SQLite) and turning it off spares users a C toolchain.
  const env = { ...host, GOWORK: 'off', CGO_ENABLED: host.CGO_ENABLED ?? '0' };
  const tracked = spawnTracked(go, args, {
    cwd,
    env,
    onLine: (line, stream) =>
      captureStdout && stream === 'stdout' ? stdout.push(line) : log(`[go] ${line}`),
  });
  const exit = await tracked.exited;
  if (exit.code !== 0) {
    throw new Error(
      `go ${args.join(' ')} failed (exit ${exit.code ?? exit.signal ?? 'n/a'}):\n${tracked.outputTail()}`,
    );
  }
  return stdout.join('\n');
}

async function makeTreeWritable(root: string): Promise<void> {
  await chmod(root, 0o755);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  await Promise.all(
    entries.map((entry) =>
      chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644),
    ),
  );
}

async function removeTree(root: string): Promise<void> {
  // A failed copy can leave read-only folders behind, which rm cannot empty for non-root users.
  await makeTreeWritable(root).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}

async function withLockFile(lockFile: string, log: Log, task: () => Promise<void>): Promise<void> {
  let announced = false;
  while (!(await tryCreateLock(lockFile))) {
    if (await isStaleLock(lockFile)) {
      // Two waiters may both clear a stale lock and build at once; the atomic rename keeps that safe.
      await rm(lockFile, { force: true });
      continue;
    }
    if (!announced) {
      log(`waiting for another process to finish building FerretDB (lock: ${lockFile})…`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    await task();
  } finally {
    await rm(lockFile, { force: true });
  }
}

async function tryCreateLock(lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'wx');
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') {
      return false;
    }
    throw error;
  }
}

/** A lock is stale when it is old or its owner (same host) is gone, e.g. after Ctrl-C during a build. */
async function isStaleLock(lockFile: string): Promise<boolean> {
  try {
    const [info, content] = await Promise.all([stat(lockFile), readFile(lockFile, 'utf8')]);
    return (
      Date.now() - info.mtimeMs > LOCK_STALE_AFTER_MS ||
      !isProcessAlive(Number.parseInt(content, 10))
    );
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return false;
    }
    throw error;
  }
}

function isProcessAlive(pid: number): boolean {
  // The owner may not have written its pid yet; assume it is alive until the age limit.
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}
