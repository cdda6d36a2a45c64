import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const TRIES = 20;
const PAUSE_MS = 50;

/**
 * Takes what was deleted from a database out of FerretDB's SQLite files.
 * FerretDB opens them with `secure_delete` (see the URL in
 * embedded-database.ts), so a deleted row's bytes are overwritten in its
 * page; the page images written before that stay in the write-ahead log
 * until a checkpoint copies the log into the database file and truncates
 * it, which this runs (`wal_checkpoint(TRUNCATE)`) from a connection of its
 * own. A checkpoint that a reader holds up is tried again, without blocking.
 */
export const scrubSqliteDatabase =
  (dataDir: string) =>
  async (database: string): Promise<void> => {
    const file = join(dataDir, `${database}.sqlite`);
    if (!existsSync(file)) return;
    const db = new DatabaseSync(file);
    try {
      for (let attempt = 1; ; attempt += 1) {
        const result = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as
          { busy: number } | undefined;
        if (result?.busy === 0) return;
        if (attempt === TRIES) throw new Error(`the checkpoint of ${database} stayed busy`);
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
    } finally {
      db.close();
    }
  };
