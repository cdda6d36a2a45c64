// h2load (nghttp2; Debian's `nghttp2-client`) as the load generator of the
// request-path benchmarks: one process in C, so the server saturates before it
// does (a Node gRPC client saturates first: reliability-notes §8). Runs it for a
// bounded time, parses its summary and its per-request log (latencies).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './report.js';

/** A gRPC message frame: compressed flag 0, 4-byte big-endian length, the message. */
export const grpcFrame = (message: Uint8Array): Buffer => {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
};

/** The headers of a gRPC call over h2load. */
export const grpcHeaders = (token: string): string[] => [
  'content-type:application/grpc',
  'te:trailers',
  `authorization:Bearer ${token}`,
];

/** What one h2load run is asked to do. */
export interface H2loadRun {
  readonly url: string;
  /** Calls in flight: connections × streams per connection (HTTP/2), or connections (HTTP/1.1). */
  readonly inFlight: number;
  readonly seconds: number;
  readonly headers: readonly string[];
  /** The request body (a POST); a GET without it. */
  readonly body?: Buffer;
  readonly h1?: boolean;
}

/** What it measured. */
export interface H2loadResult {
  readonly requestsPerSecond: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  /** Response body bytes per succeeded request: a gRPC error answers none (trailers only). */
  readonly dataBytesPerRequest: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const CONNECTIONS_H2 = 4;

const field = (output: string, pattern: RegExp): number => {
  const match = pattern.exec(output);
  if (match?.[1] === undefined)
    throw new Error(`h2load output lacks ${String(pattern)}:\n${output}`);
  return Number(match[1]);
};

const h2loadArgs = (run: H2loadRun, files: { body: string; log: string }): string[] => {
  const connections = run.h1 ? run.inFlight : Math.min(CONNECTIONS_H2, run.inFlight);
  const streams = run.h1 ? 1 : Math.max(1, Math.round(run.inFlight / connections));
  return [
    ...(run.h1 ? ['--h1'] : []),
    '-t1',
    `-c${String(connections)}`,
    `-m${String(streams)}`,
    `-D${String(run.seconds)}`,
    ...run.headers.flatMap((header) => ['-H', header]),
    ...(run.body ? ['-d', files.body] : []),
    `--log-file=${files.log}`,
    run.url,
  ];
};

/** Per-request latencies (ms) of the log: `start_us \t status \t duration_us`, 2xx only. */
const latencies = (log: string): number[] =>
  log
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((cells) => cells.length >= 3 && (cells[1] ?? '').startsWith('2'))
    .map((cells) => Number(cells[2]) / 1000);

/** Runs h2load once (bounded by `seconds` plus a 30 s margin). */
export const runH2load = async (run: H2loadRun): Promise<H2loadResult> => {
  const dir = await mkdtemp(join(tmpdir(), 'h2load-'));
  const files = { body: join(dir, 'body'), log: join(dir, 'log') };
  try {
    if (run.body) await writeFile(files.body, run.body);
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'h2load',
        h2loadArgs(run, files),
        { timeout: (run.seconds + 31) * 1000, maxBuffer: 1 << 22 },
        (error, stdout) => {
          if (error) reject(new Error(`h2load failed: ${error.message}`, { cause: error }));
          else resolve(stdout);
        },
      );
    });
    const succeeded = field(output, /(\d+) succeeded/);
    const times = latencies(await readFile(files.log, 'utf8'));
    return {
      requestsPerSecond: field(output, /finished in [\d.]+m?s, ([\d.]+) req\/s/),
      succeeded,
      failed: field(output, /(\d+) failed/),
      errored: field(output, /(\d+) errored/),
      dataBytesPerRequest: field(output, /\((\d+)\) data/) / Math.max(1, succeeded),
      p50Ms: percentile(times, 0.5),
      p99Ms: percentile(times, 0.99),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * Throws unless every call of the run succeeded with a whole answer of `bytes`:
 * a gRPC error is an HTTP 200 with no body (trailers only), so fewer bytes per
 * success than the answer means errors counted as successes. Answers still in
 * flight when the time ran out add bytes but no success: up to `inFlight` of them.
 * A run in which no call finished in time is a measurement (0 calls/s), not a failure.
 */
export const assertWholeAnswers = (
  side: string,
  result: H2loadResult,
  answer: { readonly bytes: number; readonly inFlight: number },
): void => {
  const seen = result.dataBytesPerRequest;
  const most =
    (answer.bytes * (result.succeeded + answer.inFlight)) / Math.max(1, result.succeeded);
  if (result.succeeded === 0 && result.failed + result.errored === 0) return;
  if (
    result.succeeded === 0 ||
    result.failed + result.errored > 0 ||
    seen < answer.bytes - 0.5 ||
    seen > most + 0.5
  )
    throw new Error(
      `${side}: ${String(result.succeeded)} ok, ${String(result.failed + result.errored)} failed, ` +
        `${seen.toFixed(1)} body bytes a call where an answer is ${String(answer.bytes)}`,
    );
};
