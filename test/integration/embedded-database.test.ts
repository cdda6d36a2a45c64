import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startEmbeddedDatabase,
  type EmbeddedDatabase,
} from '../../src/embedded/embedded-database.js';

const TEST_TIMEOUT_MS = 60_000;
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

  it(
    'runs a throwaway FerretDB that stores documents, enforces unique indexes and is gone after stop()',
    async () => {
      const db = await startEmbeddedDatabase({ log });
      const port = portOf(db);
      try {
        expect(db.kind).toBe('ferretdb');
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

  it(
    'gives two simultaneous instances different ports, and both work',
    async () => {
      const [first, second] = await Promise.all([
        startEmbeddedDatabase({ log }),
        startEmbeddedDatabase({ log }),
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
});
