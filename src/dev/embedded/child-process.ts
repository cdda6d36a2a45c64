import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';

const TAIL_LINES = 30;

/** How a tracked child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  readonly error?: Error | undefined;
}

/** A child process whose output is kept (last lines) and which is killed when the parent exits. */
export interface TrackedProcess {
  readonly child: ChildProcess;
  /** Settles once, when the process has exited or failed to spawn. Never rejects. */
  readonly exited: Promise<ChildExit>;
  hasExited(): boolean;
  /** Last lines of stdout and stderr, interleaved, for error messages. */
  outputTail(): string;
}

/** Options for {@link spawnTracked}. */
export interface SpawnTrackedOptions {
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
  /** Called for every non-empty output line. */
  readonly onLine?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
  /** Run as this user (we are root and the program refuses root, as PostgreSQL does). */
  readonly user?: { readonly uid: number; readonly gid: number } | undefined;
}

// The exit hook must reach children of every caller, including ones whose stop() was never called.
const liveChildren = new Set<ChildProcess>();

function killLiveChildren(): void {
  for (const child of liveChildren) {
    child.kill('SIGKILL');
  }
}

function trackUntilExit(child: ChildProcess): void {
  // Checking the listener list instead of a flag keeps this idempotent without more module state.
  if (!process.listeners('exit').includes(killLiveChildren)) {
    process.on('exit', killLiveChildren);
  }
  liveChildren.add(child);
  const untrack = (): void => {
    liveChildren.delete(child);
  };
  child.once('exit', untrack);
  child.once('error', untrack);
}

/** Spawns `command` with piped output, remembering the output tail and killing it if the parent exits. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnTrackedOptions = {},
): TrackedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.user,
  });
  trackUntilExit(child);
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) {
      tail.shift();
    }
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    forEachLine(child[stream], (line) => {
      remember(line);
      options.onLine?.(line, stream);
    });
  }
  let done = false;
  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' rather than 'exit': output written just before exiting (the error message) is in the tail.
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      remember(`failed to run ${command}: ${error.message}`);
      resolve({ code: null, signal: null, error });
    });
  }).finally(() => {
    done = true;
  });
  return { child, exited, hasExited: () => done, outputTail: () => tail.join('\n') };
}

/** SIGTERMs the process and waits for it to exit, escalating to SIGKILL after `graceMs`. */
export async function stopTracked(tracked: TrackedProcess, graceMs = 5_000): Promise<ChildExit> {
  if (!tracked.hasExited()) {
    tracked.child.kill('SIGTERM');
  }
  const timer = setTimeout(() => tracked.child.kill('SIGKILL'), graceMs);
  try {
    return await tracked.exited;
  } finally {
    clearTimeout(timer);
  }
}

function forEachLine(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) {
    return;
  }
  let pending = '';
  const emit = (line: string): void => {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed.trim() !== '') {
      onLine(trimmed);
    }
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(emit);
  });
  stream.on('end', () => emit(pending));
}

/** Looks `name` up in the PATH entries of `pathEnv`, like a shell would; `undefined` when absent. */
export async function findExecutable(
  name: string,
  pathEnv: string = hostEnvironment().PATH ?? '',
): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    // An empty PATH entry means "current directory" to a shell; resolving binaries from cwd is a hazard.
    if (dir === '') {
      continue;
    }
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** True when `file` exists, is a regular file and is executable by this process. */
export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The environment this process was started with. PATH lookup, XDG_CACHE_HOME and what child processes
 * inherit are OS plumbing rather than app configuration, so this is the one justified process.env read.
 */
export function hostEnvironment(): NodeJS.ProcessEnv {
  // eslint-disable-next-line no-restricted-syntax -- see the TSDoc above
  return process.env;
}

/** `env` without the variables whose names start with one of `prefixes`. */
export function withoutVariables(
  env: NodeJS.ProcessEnv,
  prefixes: readonly string[],
): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !prefixes.some((prefix) => name.startsWith(prefix))),
  );
}

/** The `code` of a Node.js system error (e.g. `'ENOENT'`), if `error` is one. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}
