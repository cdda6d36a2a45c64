import mongoose, { type Connection } from 'mongoose';
import { classifyMongoError, mongoCall } from './classify-mongo-error.js';
import { persistenceSpan } from '../../app/telemetry-catalogue.js';

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
export const databaseAnswers = async (conn: Connection, timeoutMs: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = conn.db?.admin().ping();
  const answered =
    ping?.then(
      (reply) => reply.ok === 1,
      () => false,
    ) ?? Promise.resolve(false);
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
};

/** Closes the connection, waiting for running operations. */
export const disconnectMongo = async (conn: Connection): Promise<void> => {
  await conn.close();
};
