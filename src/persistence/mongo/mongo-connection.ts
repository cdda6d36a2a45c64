import { setTimeout as sleep } from 'node:timers/promises';
import mongoose, { type Connection } from 'mongoose';
import { classifyMongoError, mongoCall } from './classify-mongo-error.js';
import { within } from '../../app/common/bounded.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';

/** Where the database is and how to talk to it. */
export interface MongoOptions {
  readonly uri: string;
  readonly dbName: string;
  /** Let mongoose build the schemas' indexes itself (tests); production runs `migrate`. */
  readonly autoIndex?: boolean;
  /** How long a call waits for a reachable server before failing UNAVAILABLE (default 5 s). */
  readonly serverSelectionTimeoutMS?: number;
}

const open = async (options: MongoOptions): Promise<Connection> => {
  let conn: Connection | undefined;
  try {
    conn = mongoose.createConnection(options.uri, {
      dbName: options.dbName,
      autoIndex: options.autoIndex ?? false,
      autoCreate: false,
      bufferCommands: false,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
      // The pool grows with a burst of concurrent calls; idle a minute, a connection closes.
      maxIdleTimeMS: 60_000,
      writeConcern: { w: 'majority' },
    });
    return await conn.asPromise();
  } catch (error) {
    await conn?.close(true).catch(() => undefined);
    throw classifyMongoError(error);
  }
};

/**
 * Opens a dedicated connection (never the global mongoose one). Commands fail
 * fast instead of queueing while the database is away, and writes wait for a
 * majority of a replica set (FerretDB ignores the write concern). Whether a
 * filtered update is atomic depends on the server: see `serverTraits`.
 * Throws UNAVAILABLE `DATABASE_UNAVAILABLE` when no server answers.
 */
export const connectMongo = (options: MongoOptions): Promise<Connection> => open(options);

/** One failed attempt to reach the database at start-up. */
export interface ConnectAttempt {
  readonly attempt: number;
  readonly reason: string;
  /** When the next attempt starts; null: the wait is over, start-up gives up. */
  readonly retryInMs: number | null;
}

/** The first pause between attempts; each next one doubles, up to the last. */
const FIRST_PAUSE_MS = 1000;
const LAST_PAUSE_MS = 10_000;

/**
 * `connectMongo` for start-up, when the database may still be starting too:
 * while no server answers (UNAVAILABLE), it tries again after a pause that
 * doubles (1 s, 2 s, … 10 s) for up to `waitMs`, reporting each failed
 * attempt; then throws the last attempt's error. Any other error is thrown
 * at once.
 */
export const connectMongoPatiently = async (
  options: MongoOptions,
  patience: { readonly waitMs: number; readonly onFailure: (attempt: ConnectAttempt) => void },
): Promise<Connection> => {
  const until = Date.now() + patience.waitMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await open(options);
    } catch (error) {
      const failure = classifyMongoError(error);
      const pause = Math.min(LAST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 1));
      const again = failure.code === 'UNAVAILABLE' && Date.now() + pause < until;
      patience.onFailure({ attempt, reason: failure.reason, retryInMs: again ? pause : null });
      if (!again) throw failure;
      await sleep(pause);
    }
  }
};

/** How the server behaves where the adapters must care. */
export interface ServerTraits {
  /** What the server calls itself: `MongoDB 8.0.4`, `FerretDB v1.24.2`. */
  readonly name: string;
  /**
   * A filtered update is atomic (MongoDB). FerretDB 1.x reads, then
   * overwrites: two writers guarded by the same version can both win.
   */
  readonly compareAndSet: boolean;
}

/** Asks the server what it is (FerretDB adds `ferretdbVersion` to buildInfo). */
export const serverTraits = (conn: Connection): Promise<ServerTraits> =>
  mongoCall(persistenceSpan('build_info'), {}, async () => {
    const info = await conn.db?.admin().command({ buildInfo: 1 });
    const ferret: unknown = info?.ferretdbVersion;
    if (typeof ferret === 'string')
      return { name: `FerretDB ${ferret}`, compareAndSet: !/^v?1\./.test(ferret) };
    const version: unknown = info?.version;
    return { name: `MongoDB ${typeof version === 'string' ? version : ''}`, compareAndSet: true };
  });

/** Whether the database answers a ping within `timeoutMs` (false on any failure). */
export const databaseAnswers = (conn: Connection, timeoutMs: number): Promise<boolean> => {
  const ping = conn.db?.admin().ping();
  const answered =
    ping?.then(
      (reply) => reply.ok === 1,
      () => false,
    ) ?? Promise.resolve(false);
  return within(answered, timeoutMs, false);
};

/** Closes the connection, waiting for running operations. */
export const disconnectMongo = async (conn: Connection): Promise<void> => {
  await conn.close();
};
