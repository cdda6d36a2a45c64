import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
} from '../../src/dev/embedded/embedded-database.js';
import { SUBJECT_KEYS } from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Every file under `folder`, recursively. */
const filesUnder = async (folder: string): Promise<string[]> => {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
};

/** The files under `folder` that hold any of `needles` (as UTF-8 bytes). */
const holding = async (folder: string, needles: readonly string[]): Promise<string[]> => {
  const found: string[] = [];
  for (const file of await filesUnder(folder)) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0)); // removed meanwhile
    for (const needle of needles)
      if (bytes.includes(Buffer.from(needle))) found.push(`${file}: ${needle.slice(0, 12)}…`);
  }
  return found;
};

/**
 * Crypto-shredding is only as good as the files the database leaves behind
 * (issue 21, item 11): after an erasure, neither the subject's contact data
 * nor the destroyed key may be readable in the raw files of the embedded
 * database (FerretDB on PostgreSQL: its tables and its WAL; on SQLite: the
 * database file and its WAL), or the master key would open every sealed
 * field again.
 */
describe.each(['postgresql', 'sqlite'] as const)(
  'residue on disk after an erasure (FerretDB on %s)',
  (backend) => {
    let dataDir: string;
    let database: EmbeddedDatabase;
    let t: TestApp;
    let scrubs = 0;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'residue-'));
      database = await startEmbeddedDatabase({
        dataDir,
        ferretDbBackend: backend,
        log: () => undefined,
      });
      const scrub = database.scrub;
      if (scrub === undefined) throw new Error('the embedded database cannot scrub');
      t = await startTestApp(
        {},
        {
          mongoUri: database.uri,
          residue: async (name) => {
            await scrub(name);
            scrubs += 1;
          },
        },
      );
    }, 120_000);
    afterAll(async () => {
      await t[Symbol.asyncDispose]();
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('leaves neither the contact data nor the destroyed key in the database files', async () => {
      const phone = '+4915112345678';
      const subject = await t.scheduled({ prefix: 'residue', phone });
      const email = t.emailOf(subject.subjectId);
      const vault = t.app.connection.useDb(`${t.dbName}_keys`);
      const stored = await vault
        .collection<{ _id: string; wrappedKey: string }>(SUBJECT_KEYS)
        .findOne({ _id: subject.subjectId });
      const wrappedKey = stored?.wrappedKey ?? '';
      expect(wrappedKey).not.toBe('');
      // The search finds what is there: the wrapped key reaches the files (WAL first).
      await expect
        .poll(async () => (await holding(dataDir, [wrappedKey])).length, { timeout: 20_000 })
        .toBeGreaterThan(0);
      // Contact data is sealed in every collection of ours, the account directory included.
      expect(await holding(dataDir, [email, phone])).toEqual([]);

      await t.app.runWorkerPass();
      const done = await t.app.deps.requests.findById(subject.id);
      expect(done?.state).toBe('COMPLETED');
      expect(done?.subjectKeyDestroyedAt).not.toBeNull();
      await t.app.residueScrubbed();
      expect(scrubs).toBeGreaterThan(0);

      expect(await holding(dataDir, [wrappedKey, email, phone])).toEqual([]);
    }, 120_000);
  },
);
