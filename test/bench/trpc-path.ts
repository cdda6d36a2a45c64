// tRPC: the getDeletionRequest query over HTTP/1.1 of a service replica against
// a bare node:http handler doing the same findOne on the same database and
// answering JSON (test/bench/lib/floor-server.ts), at 16 and 64 connections,
// loaded by h2load --h1 (same method, GET, both sides); rounds alternate.
//   node --import tsx test/bench/trpc-path.ts [--rounds=5] [--seconds=5]
// h2load counts only 2xx as succeeded (a tRPC error is 4xx/5xx), and each run's
// body bytes per call must be the answer a real call got.
// Loopback only, bounded by rounds × levels × seconds. MONGODB_URI to use a running database.
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { quick, startBenchEnv } from './lib/bench-env.js';
import { assertWholeAnswers, runH2load, type H2loadResult } from './lib/h2load.js';
import { numberArgs, reportResult } from './lib/report.js';
import { alternate, levelFigures, roundsOf, type SideBySide } from './lib/side-by-side.js';

const args = numberArgs(quick ? { rounds: 1, seconds: 2 } : { rounds: 5, seconds: 5 });
const levels = quick ? [16] : [16, 64];

const env = await startBenchEnv();
try {
  await env.seedAccounts('bench-subject-', 1);
  const client = createDeletionClient({
    address: `127.0.0.1:${String(env.replica.ports.grpcPort)}`,
    auth: { token: env.token },
    retry: { attempts: 1 },
  });
  const { name } = await client.requestDeletion({ subjectId: 'bench-subject-0', reason: 'bench' });
  client.close();
  const urls = {
    ours: `http://127.0.0.1:${String(env.replica.ports.httpPort)}/trpc/getDeletionRequest?input=${encodeURIComponent(JSON.stringify({ name }))}`,
    floor: `http://127.0.0.1:${String(env.floor.ports.httpPort)}/get?name=${encodeURIComponent(name)}`,
  };
  const headers = [`authorization:Bearer ${env.token}`];
  // Real calls: each side answers 200 with the request, and this many body bytes.
  const bodyBytes = async (url: string): Promise<number> => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${env.token}` } });
    const body = await response.text();
    if (response.status !== 200 || !body.includes(name)) throw new Error(`${url}: ${body}`);
    return Buffer.byteLength(body);
  };
  const expected = { ours: await bodyBytes(urls.ours), floor: await bodyBytes(urls.floor) };
  const measure = (inFlight: number) => async (side: 'ours' | 'floor') => {
    const result = await runH2load({
      url: urls[side],
      inFlight,
      seconds: args.seconds,
      headers,
      h1: true,
    });
    assertWholeAnswers(side, result, { bytes: expected[side], inFlight });
    return result;
  };
  const runs = new Map<number, SideBySide<H2loadResult>>();
  for (const inFlight of levels)
    runs.set(inFlight, await alternate(args.rounds, measure(inFlight)));

  reportResult({
    benchmark: 'trpc-path: getDeletionRequest over tRPC vs a bare node:http findOne',
    setup: {
      rounds: args.rounds,
      seconds: args.seconds,
      inFlight: levels.join(','),
      load: 'h2load --h1, one connection per call in flight, GET',
      rateLimits: 'raised (RATE_LIMIT_READS)',
    },
    figures: levels.flatMap((inFlight) => {
      const level = runs.get(inFlight);
      return level ? levelFigures(`${String(inFlight)} in flight`, level, 0.8) : [];
    }),
    details: {
      bodyBytes: expected,
      rounds: Object.fromEntries(
        [...runs].map(([inFlight, level]) => [String(inFlight), roundsOf(level)]),
      ),
    },
  });
} finally {
  await env.stop();
}
