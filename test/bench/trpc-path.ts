// tRPC: the getDeletionRequest query over HTTP/1.1 of a service replica against
// a bare node:http handler doing the same findOne on the same database and
// answering JSON (test/bench/lib/floor-server.ts), at 16 and 64 connections,
// loaded by h2load --h1 (same method, GET, both sides); rounds alternate.
//   node --import tsx test/bench/trpc-path.ts [--rounds=5] [--seconds=5]
// h2load counts only 2xx as succeeded (a tRPC error is 4xx/5xx), and each run's
// body bytes per call must be the answer a real call got. Then what tRPC's
// adapter costs alone: an echo query behind tRPC's standalone adapter against
// node:http answering the same JSON, both in the floor process, no database.
// Loopback only, bounded by rounds × levels × seconds. MONGODB_URI to use a running database.
import { createDeletionClient } from '../../clients/grpc/deletion-client.js';
import { startBenchEnv } from './lib/bench-env.js';
import { assertWholeAnswers, runH2load, type H2loadResult } from './lib/h2load.js';
import { numberArgs, reportResult, quick } from './lib/report.js';
import { alternate, levelFigures, roundsOf, type SideBySide } from './lib/side-by-side.js';
import { receiptRecorded } from './lib/service.js';

const args = numberArgs(quick ? { rounds: 1, seconds: 2 } : { rounds: 5, seconds: 5 });
const levels = quick ? [16] : [16, 64];
/** The load of the adapter-alone pair. */
const ADAPTER_IN_FLIGHT = 16;

const env = await startBenchEnv();
try {
  await env.seedAccounts('bench-subject-', 1);
  const client = createDeletionClient({
    address: `127.0.0.1:${String(env.replica.ports.grpcPort)}`,
    auth: { token: env.token },
    retry: { attempts: 1 },
  });
  const { name } = await client.requestDeletion({ subjectId: 'bench-subject-0', reason: 'bench' });
  await receiptRecorded(client, name);
  client.close();
  const input = encodeURIComponent(JSON.stringify({ name }));
  const floorBase = `http://127.0.0.1:${String(env.floor.ports.httpPort)}`;
  const urls = {
    ours: `http://127.0.0.1:${String(env.replica.ports.httpPort)}/trpc/getDeletionRequest?input=${input}`,
    floor: `${floorBase}/get?name=${encodeURIComponent(name)}`,
  };
  // What tRPC's adapter costs by itself: an echo query against node:http answering alike.
  const adapterUrls = {
    ours: `${floorBase}/trpc/echo?input=${input}`,
    floor: `${floorBase}/echo?name=${encodeURIComponent(name)}`,
  };
  const headers = [`authorization:Bearer ${env.token}`];
  // Real calls: each side answers 200 with the request, and this many body bytes.
  const bodyBytes = async (url: string): Promise<number> => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${env.token}` } });
    const body = await response.text();
    if (response.status !== 200 || !body.includes(name)) throw new Error(`${url}: ${body}`);
    return Buffer.byteLength(body);
  };
  const bodiesOf = async (pair: typeof urls) => ({
    ours: await bodyBytes(pair.ours),
    floor: await bodyBytes(pair.floor),
  });
  const expected = await bodiesOf(urls);
  const measure =
    (pair: typeof urls, bytes: typeof expected, inFlight: number) =>
    async (side: 'ours' | 'floor') => {
      const result = await runH2load({
        url: pair[side],
        inFlight,
        seconds: args.seconds,
        headers,
        h1: true,
      });
      assertWholeAnswers(side, result, { bytes: bytes[side], inFlight });
      return result;
    };
  const runs = new Map<number, SideBySide<H2loadResult>>();
  for (const inFlight of levels)
    runs.set(inFlight, await alternate(args.rounds, measure(urls, expected, inFlight)));
  const adapterBytes = await bodiesOf(adapterUrls);
  const adapter = await alternate(
    args.rounds,
    measure(adapterUrls, adapterBytes, ADAPTER_IN_FLIGHT),
  );

  reportResult({
    benchmark: 'trpc-path: getDeletionRequest over tRPC vs a bare node:http findOne',
    setup: {
      rounds: args.rounds,
      seconds: args.seconds,
      inFlight: levels.join(','),
      load: 'h2load --h1, one connection per call in flight, GET',
      rateLimits: 'raised (RATE_LIMIT_READS)',
    },
    figures: [
      ...levels.flatMap((inFlight) => {
        const level = runs.get(inFlight);
        return level ? levelFigures(`${String(inFlight)} in flight`, level, 0.8) : [];
      }),
      ...levelFigures(
        `tRPC adapter alone (echo, no database), ${String(ADAPTER_IN_FLIGHT)} in flight`,
        adapter,
      ),
    ],
    details: {
      bodyBytes: expected,
      adapterBodyBytes: adapterBytes,
      adapterRounds: roundsOf(adapter),
      rounds: Object.fromEntries(
        [...runs].map(([inFlight, level]) => [String(inFlight), roundsOf(level)]),
      ),
    },
  });
} finally {
  await env.stop();
}
