// The database floor: what one round trip costs on the database the benchmarks run
// on, by collection size. On the embedded FerretDB 1.24 on PostgreSQL, equality on an
// indexed top-level field is served by an index (src/dev/embedded/postgres-server.ts), so
// lookups stay flat as collections grow. On SQLite every filter, `_id` equality
// included, is evaluated row by row (its pushdown is a json_each() per row; no index
// is used), so a lookup costs in proportion to the rows before the match (all of them
// when there is none), while an insert checks the unique `_id` index and stays flat.
// Compare them with test/bench/with-database.ts --sqlite|--postgresql.
//   node --import tsx test/bench/database-scan.ts [--small=1000] [--large=8000] [--calls=20]
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { median, numberArgs, reportResult, round3, type Figure, quick } from './lib/report.js';

const args = numberArgs({
  small: quick ? 200 : 1000,
  large: quick ? 800 : 8000,
  calls: quick ? 5 : 20,
});

const database = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
const client = await new MongoClient(database.uri).connect();
const db = client.db(`bench_scan_${randomUUID().replaceAll('-', '').slice(0, 10)}`);

/** Median milliseconds of `calls` sequential calls. */
const timed = async (call: (i: number) => Promise<unknown>): Promise<number> => {
  const samples: number[] = [];
  for (let i = 0; i < args.calls; i += 1) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  return round3(median(samples));
};

/** A request-sized document (about 2 KB), with a string `_id` as the service uses. */
const document = (id: string) => ({ _id: id, state: 'COMPLETED', padding: 'x'.repeat(2000) });

const measure = async (rows: number) => {
  const collection = db.collection<{ _id: string }>(`rows_${String(rows)}`);
  for (let from = 0; from < rows; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, rows - from) }, (_, i) =>
      document(`row-${String(from + i)}`),
    );
    await collection.insertMany(batch);
  }
  return {
    rows,
    findFirstMs: await timed(() => collection.findOne({ _id: 'row-0' })),
    findLastMs: await timed(() => collection.findOne({ _id: `row-${String(rows - 1)}` })),
    findMissingMs: await timed(() => collection.findOne({ _id: 'absent' })),
    updateLastMs: await timed((i) =>
      collection.updateOne({ _id: `row-${String(rows - 1)}` }, { $set: { n: i } }),
    ),
    insertMs: await timed((i) => collection.insertOne(document(`new-${String(i)}`))),
  };
};

const small = await measure(args.small);
const large = await measure(args.large);
const growth = (key: Exclude<keyof typeof small, 'rows'>): Figure => ({
  name: `${key.replace(/Ms$/, '')}: ${String(large.rows)} rows vs ${String(small.rows)}`,
  value: round3(large[key] / small[key]),
  unit: '×',
});
reportResult({
  benchmark: `Database round trip by collection size (${database.label})`,
  setup: { small: args.small, large: args.large, calls: args.calls, database: database.kind },
  figures: [
    {
      name: `findOne by _id, last of ${String(large.rows)} rows`,
      value: large.findLastMs,
      unit: 'ms',
    },
    {
      name: `findOne by _id, absent, ${String(large.rows)} rows`,
      value: large.findMissingMs,
      unit: 'ms',
    },
    { name: `updateOne by _id, ${String(large.rows)} rows`, value: large.updateLastMs, unit: 'ms' },
    { name: `insertOne, ${String(large.rows)} rows`, value: large.insertMs, unit: 'ms' },
    growth('findLastMs'),
    growth('findMissingMs'),
    growth('updateLastMs'),
    growth('insertMs'),
  ],
  details: { small, large },
});

await db.dropDatabase();
await client.close();
await database.stop();
