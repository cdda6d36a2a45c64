// How long a destroyed subject key stays readable in the embedded database's files (issue 21,
// item 11): FerretDB on PostgreSQL (or SQLite) in a fresh data folder, one erasure after another; each
// destruction is followed by the scrub (VACUUM FULL of the key vault's tables, WAL switch and
// checkpoint), and the script prints the median and the largest time from the key's
// deletion to the end of its scrub: the window in which the files still hold it.
//   node --import tsx test/security/residue-window.ts [--erasures=10] [--sqlite=1]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';
import { numberArgs, percentile } from '../bench/lib/report.js';
import { startTestApp } from '../support/test-app.js';

const args = numberArgs({ erasures: 10, sqlite: 0 });
const dataDir = await mkdtemp(join(tmpdir(), 'residue-window-'));
const database = await startEmbeddedDatabase({
  dataDir,
  ferretDbBackend: args.sqlite === 1 ? 'sqlite' : 'postgresql',
  log: () => undefined,
});
const windows: number[] = [];
try {
  const scrub = database.scrub;
  if (scrub === undefined) throw new Error('the embedded database cannot scrub');
  let deletedAt = 0;
  let scrubbed: () => void = () => undefined;
  const t = await startTestApp(
    {},
    {
      mongoUri: database.uri,
      // Called right after the key's deletion (nothing else is scrubbing: one erasure at a time).
      residue: async (name) => {
        deletedAt = performance.now();
        await scrub(name);
        windows.push(performance.now() - deletedAt);
        scrubbed();
      },
    },
  );
  try {
    for (let i = 0; i < args.erasures; i += 1) {
      await t.scheduled({ prefix: `window${String(i)}` });
      const done = new Promise<void>((resolve) => (scrubbed = resolve));
      await t.app.runWorkerPass();
      await done;
    }
  } finally {
    await t[Symbol.asyncDispose]();
  }
} finally {
  await database.stop();
  await rm(dataDir, { recursive: true, force: true });
}
const median = percentile(windows, 0.5);
console.log(
  JSON.stringify({
    backend: args.sqlite === 1 ? 'sqlite' : 'postgresql',
    erasures: windows.length,
    medianMs: Math.round(median),
    maxMs: Math.round(Math.max(...windows)),
  }),
);
