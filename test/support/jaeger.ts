import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isExecutableFile,
  spawnTracked,
  stopTracked,
} from '../../src/dev/embedded/child-process.js';
import { defaultCacheDir, waitUntilAccepting } from '../../src/dev/embedded/embedded-database.js';
import { findGo, runGo } from '../../src/dev/embedded/ferretdb-binary.js';
import { findFreePort } from '../../src/dev/embedded/free-port.js';

/** The Jaeger release the trace backend check runs against (`tools/jaeger/go.mod` pins it). */
export const JAEGER_VERSION = 'v1.76.0';

const TOOL_MODULE = fileURLToPath(new URL('../../tools/jaeger/', import.meta.url));

/** The binary, and beside it the go.mod and go.sum it was built from (a changed pin rebuilds it). */
const cached = () => {
  const binary = join(defaultCacheDir(), 'bin', 'jaeger');
  return { binary, stamp: `${binary}.built-from` };
};

const pinOf = async (): Promise<string> =>
  (
    await Promise.all(['go.mod', 'go.sum'].map((file) => readFile(join(TOOL_MODULE, file), 'utf8')))
  ).join('\n');

const upToDate = async (binary: string, stamp: string): Promise<boolean> =>
  (await isExecutableFile(binary)) &&
  (await readFile(stamp, 'utf8').then(
    async (built) => built === (await pinOf()),
    () => false,
  ));

/**
 * The path of Jaeger's binary (v2, `cmd/jaeger` of the v1.76.0 module), built
 * once with `go build` from the tool module in `tools/jaeger` and cached
 * outside the repository (about eleven minutes the first time on two cores).
 * The build is a tracked child: it dies with the tests.
 */
export const ensureJaeger = async (log: (line: string) => void): Promise<string> => {
  const { binary, stamp } = cached();
  if (await upToDate(binary, stamp)) return binary;
  const go = await findGo(`Jaeger ${JAEGER_VERSION}`, 'or skip npm run test:trace-backend');
  const started = Date.now();
  log(`building Jaeger ${JAEGER_VERSION} with go (first run only, about eleven minutes)…`);
  await mkdir(join(defaultCacheDir(), 'bin'), { recursive: true });
  const partial = `${binary}.${String(process.pid)}.partial`;
  const build = ['build', '-o', partial, 'github.com/jaegertracing/jaeger/cmd/jaeger'];
  await runGo(go, build, { cwd: TOOL_MODULE, log }).catch(async (error: unknown) => {
    await rm(partial, { force: true });
    throw error;
  });
  await rename(partial, binary);
  await writeFile(stamp, await pinOf());
  log(`built Jaeger in ${String(Math.round((Date.now() - started) / 1000))} s: ${binary}`);
  return binary;
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
export interface Jaeger extends AsyncDisposable {
  readonly otlpUrl: string;
  readonly queryUrl: string;
}

/** Starts Jaeger on free loopback ports; resolves once its query API and OTLP receiver accept connections. */
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
  try {
    await waitUntilAccepting(tracked, ports.query, 'jaeger (query API)');
    await waitUntilAccepting(tracked, ports.otlp, 'jaeger (OTLP receiver)');
  } catch (error) {
    await stopTracked(tracked);
    throw error;
  }
  return {
    otlpUrl: `http://127.0.0.1:${String(ports.otlp)}`,
    queryUrl: `http://127.0.0.1:${String(ports.query)}`,
    [Symbol.asyncDispose]: async () => {
      await stopTracked(tracked);
    },
  };
};
