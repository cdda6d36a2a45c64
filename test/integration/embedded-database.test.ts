import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
} from '../../src/dev/embedded/embedded-database.js';
import { findPostgresBin } from '../../src/dev/embedded/postgres-server.js';

const TEST_TIMEOUT_MS = 60_000;
/** FerretDB's backends to test: PostgreSQL where it is installed (CI installs it), and SQLite. */
const BACKENDS = [
  ...((await findPostgresBin()) === undefined ? [] : ['postgresql' as const]),
  'sqlite' as const,
];
// The first run on a machine builds FerretDB from source, which takes minutes.
const WARM_UP_TIMEOUT_MS = 20 * 60_000;

interface Thing {
  _id: string;
  email: string;
}

/** Whether anything accepts a TCP connection on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function portOf(db: EmbeddedDatabase): number {
  return Number(new URL(db.uri).port);
}

async function insertAndRead(db: EmbeddedDatabase, dbName: string): Promise<Thing | null> {
  const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    const things = client.db(dbName).collection<Thing>('things');
    await things.insertOne({ _id: 'a', email: 'a@example.com' });
    return await things.findOne({ _id: 'a' });
  } finally {
    await client.close();
  }
}

describe('startEmbeddedDatabase', () => {
  const savedPath = process.env.PATH;
  const savedTmpdir = process.env.TMPDIR;
  const logLines: string[] = [];
  const log = (line: string): void => {
    logLines.push(line);
  };
  let scratchTmp = '';

  beforeAll(async () => {
    // Force the FerretDB path even on machines that have a mongod.
    const path = (savedPath ?? '')
      .split(delimiter)
      .filter((dir) => !existsSync(join(dir, 'mongod')));
    process.env.PATH = path.join(delimiter);
    // A private TMPDIR lets the tests see exactly which temp folders are made and whether they are removed.
    scratchTmp = await mkdtemp(join(tmpdir(), 'embedded-db-test-'));
    // As root, PostgreSQL runs as the postgres user, which must pass through this folder.
    await chmod(scratchTmp, 0o711);
    process.env.TMPDIR = scratchTmp;
    const warmUp = await startEmbeddedDatabase({ log });
    await warmUp.stop();
  }, WARM_UP_TIMEOUT_MS);

  afterAll(async () => {
    // Assigning undefined would store the string 'undefined'.
    if (savedPath === undefined) {
      delete process.env.PATH;
    } else {
      process.env.PATH = savedPath;
    }
    if (savedTmpdir === undefined) {
      delete process.env.TMPDIR;
    } else {
      process.env.TMPDIR = savedTmpdir;
    }
    if (scratchTmp !== '') {
      await rm(scratchTmp, { recursive: true, force: true });
    }
  });

  it.each(BACKENDS)(
    'runs a throwaway FerretDB on %s that stores documents, enforces unique indexes and is gone after stop()',
    async (ferretDbBackend) => {
      const db = await startEmbeddedDatabase({ log, ferretDbBackend });
      const port = portOf(db);
      try {
        expect(db.kind).toBe('ferretdb');
        expect(db.label).toContain(ferretDbBackend === 'sqlite' ? 'SQLite' : 'PostgreSQL');
        expect(db.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
        expect(await readdir(scratchTmp)).toHaveLength(1);

        const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 5_000 });
        try {
          const things = client.db('embedded_database_test').collection<Thing>('things');
          await things.insertOne({ _id: 'a', email: 'a@example.com' });
          expect(await things.findOne({ _id: 'a' })).toEqual({ _id: 'a', email: 'a@example.com' });

          await things.createIndex({ email: 1 }, { unique: true }, undefined);
          await expect(
            things.insertOne({ _id: 'b', email: 'a@example.com' }),
          ).rejects.toHaveProperty('code', 11000);
        } finally {
          await client.close();
        }
      } finally {
        await db.stop();
      }
      expect(await accepts(port)).toBe(false);
      expect(await readdir(scratchTmp)).toEqual([]);
      // And the PostgreSQL it stored into is gone too (its folder going proves nothing).
      for (const line of logLines) {
        const cluster = /ready on its socket in (\S+)$/.exec(line)?.[1];
        if (cluster !== undefined) expect(spawnSync('pgrep', ['-f', cluster]).status).toBe(1);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'returns an external URI untouched and starts nothing',
    async () => {
      const linesBefore = logLines.length;
      const uri = 'mongodb://db.example.invalid:27017/accounts?replicaSet=rs0';

      const db = await startEmbeddedDatabase({ externalUri: uri, log });

      expect(db).toMatchObject({ uri, kind: 'external' });
      expect(logLines.slice(linesBefore)).toEqual([]);
      expect(await readdir(scratchTmp)).toEqual([]);
      await expect(db.stop()).resolves.toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );

  it.each(BACKENDS)(
    'gives two simultaneous instances on %s different ports, and both work',
    async (ferretDbBackend) => {
      const [first, second] = await Promise.all([
        startEmbeddedDatabase({ log, ferretDbBackend }),
        startEmbeddedDatabase({ log, ferretDbBackend }),
      ]);
      try {
        expect(portOf(first)).not.toBe(portOf(second));
        const [fromFirst, fromSecond] = await Promise.all([
          insertAndRead(first, 'embedded_first'),
          insertAndRead(second, 'embedded_second'),
        ]);
        expect(fromFirst).toEqual({ _id: 'a', email: 'a@example.com' });
        expect(fromSecond).toEqual({ _id: 'a', email: 'a@example.com' });
      } finally {
        await Promise.all([first.stop(), second.stop()]);
      }
      expect(await Promise.all([accepts(portOf(first)), accepts(portOf(second))])).toEqual([
        false,
        false,
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it.each(BACKENDS.filter((backend) => backend === 'postgresql'))(
    'on %s, answers an equality filter on an indexed field from an index, not a scan',
    async (ferretDbBackend) => {
      const db = await startEmbeddedDatabase({ log, ferretDbBackend });
      const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        const database = client.db('embedded_index_test');
        const things = database.collection<Thing>('things');
        await things.createIndex({ email: 1 }, {}, undefined);
        await things.insertMany(
          Array.from({ length: 2_000 }, (_, i) => ({
            _id: `t${String(i)}`,
            email: `${String(i)}@x`,
          })),
        );
        const explained = (filter: object) =>
          database
            .command({ explain: { find: 'things', filter } })
            .then((answer) => JSON.stringify(answer.queryPlanner));
        // FerretDB pushes the filter down as `_jsonb->'field' @> value`, which only the GIN
        // twins the event trigger adds can serve; its own btree indexes cannot.
        const gin = /"Index Name":"gin_[0-9a-f]{32}_1"/;
        expect(await explained({ email: '1999@x' })).toMatch(gin);
        expect(await explained({ _id: 't1999' })).toMatch(gin);
        expect(await explained({ unindexed: 1 })).toContain('Seq Scan');
        // Dropping the index drops its twin: the filter is scanned again.
        await things.dropIndex('email_1');
        expect(await explained({ email: '1999@x' })).not.toMatch(gin);
      } finally {
        await client.close();
        await db.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it.each(BACKENDS)(
    'keeps the data of a persistent folder on %s across restarts',
    async (ferretDbBackend) => {
      const dataDir = join(scratchTmp, `persistent-${ferretDbBackend}`);
      const first = await startEmbeddedDatabase({ log, ferretDbBackend, dataDir });
      try {
        expect(await insertAndRead(first, 'embedded_persistent')).toEqual({
          _id: 'a',
          email: 'a@example.com',
        });
      } finally {
        await first.stop();
      }
      // Started without a choice, it keeps the storage the folder holds.
      const second = await startEmbeddedDatabase({ log, dataDir });
      const client = new MongoClient(second.uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        expect(second.label).toBe(first.label);
        const things = client.db('embedded_persistent').collection<Thing>('things');
        expect(await things.findOne({ _id: 'a' })).toEqual({ _id: 'a', email: 'a@example.com' });
      } finally {
        await client.close();
        await second.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    TEST_TIMEOUT_MS,
  );
});
