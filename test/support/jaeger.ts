import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  findExecutable,
  hostEnvironment,
  spawnTracked,
  stopTracked,
} from '../../src/embedded/child-process.js';
import { findFreePort } from '../../src/embedded/free-port.js';

/** The Jaeger release the trace backend check runs against (`tools/jaeger/go.mod` pins it). */
export const JAEGER_VERSION = 'v1.76.0';

const run = promisify(execFile);
const CACHE = join(homedir(), '.cache', 'account-deletion-service');
const BINARY = join(CACHE, 'bin', 'jaeger');
/** Written next to the binary once it is built: the version it was built from. */
const STAMP = `${BINARY}.version`;

const built = async (): Promise<boolean> => {
  try {
    await access(BINARY);
    return (await readFile(STAMP, 'utf8')).trim() === JAEGER_VERSION;
  } catch {
    return false;
  }
};

/**
 * The path of Jaeger's binary (v2, `cmd/jaeger` of the v1.76.0 module),
 * built once with `go build` from the tool module in `tools/jaeger` and cached
 * outside the repository. The first build takes about ten minutes on two cores.
 */
export const ensureJaeger = async (log: (line: string) => void): Promise<string> => {
  if (await built()) return BINARY;
  const go = (await findExecutable('go')) ?? '/usr/local/go/bin/go';
  const started = Date.now();
  log(`building Jaeger ${JAEGER_VERSION} with go (first run only, about ten minutes)…`);
  await mkdir(join(CACHE, 'bin'), { recursive: true });
  const partial = `${BINARY}.partial`;
  await run(go, ['build', '-o', partial, 'github.com/jaegertracing/jaeger/cmd/jaeger'], {
    cwd: resolve('tools/jaeger'),
    env: { ...hostEnvironment(), GOWORK: 'off', CGO_ENABLED: '0' },
    maxBuffer: 16 * 1024 * 1024,
  });
  await rename(partial, BINARY);
  await writeFile(STAMP, `${JAEGER_VERSION}\n`);
  log(`built Jaeger in ${String(Math.round((Date.now() - started) / 1000))} s: ${BINARY}`);
  return BINARY;
};

/** Jaeger as one process: OTLP/HTTP in, traces kept in memory, the query API out. */
const configFor = (ports: { otlp: number; query: number; queryGrpc: number; health: number }) => `
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${String(ports.query)}
    grpc:
      endpoint: 127.0.0.1:${String(ports.queryGrpc)}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${String(ports.health)}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${String(ports.otlp)}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;

/** A running Jaeger: where to send OTLP, where to query, and how to stop it. */
export interface Jaeger {
  readonly otlpUrl: string;
  readonly queryUrl: string;
  stop(): Promise<void>;
}

/** Starts Jaeger on free loopback ports; resolves once its query API answers. */
export const startJaeger = async (binary: string, folder: string): Promise<Jaeger> => {
  const ports = {
    otlp: await findFreePort(),
    query: await findFreePort(),
    queryGrpc: await findFreePort(),
    health: await findFreePort(),
  };
  const config = join(folder, 'jaeger.yaml');
  await writeFile(config, configFor(ports));
  const tracked = spawnTracked(binary, [`--config=file:${config}`]);
  const queryUrl = `http://127.0.0.1:${String(ports.query)}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (tracked.hasExited()) throw new Error(`jaeger exited:\n${tracked.outputTail()}`);
    const ready = await fetch(`${queryUrl}/api/services`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stopTracked(tracked);
      throw new Error(`jaeger did not answer within 30 s:\n${tracked.outputTail()}`);
    }
    await new Promise((wake) => setTimeout(wake, 200));
  }
  return {
    otlpUrl: `http://127.0.0.1:${String(ports.otlp)}`,
    queryUrl,
    stop: async () => {
      await stopTracked(tracked);
      await rm(config, { force: true });
    },
  };
};
