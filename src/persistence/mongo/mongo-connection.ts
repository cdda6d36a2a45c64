import mongoose, { type Connection, type ConnectOptions } from 'mongoose';
import { classifyMongoError } from './classify-mongo-error.js';

/** Where the database is and how to talk to it. */
export interface MongoOptions {
  readonly uri: string;
  readonly dbName: string;
  /** Let mongoose build the schemas' indexes itself (tests); production runs `migrate`. */
  readonly autoIndex?: boolean;
  /** How long a call waits for a reachable server before failing UNAVAILABLE (default 5 s). */
  readonly serverSelectionTimeoutMS?: number;
}

const open = async (options: MongoOptions, extra: ConnectOptions): Promise<Connection> => {
  let conn: Connection | undefined;
  try {
    conn = mongoose.createConnection(options.uri, {
      dbName: options.dbName,
      autoIndex: options.autoIndex ?? false,
      autoCreate: false,
      bufferCommands: false,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
      writeConcern: { w: 'majority' },
      ...extra,
    });
    return await conn.asPromise();
  } catch (error) {
    await conn?.close(true).catch(() => undefined);
    throw classifyMongoError(error);
  }
};

const isFerretDb = async (conn: Connection): Promise<boolean> => {
  const info = await conn.db?.admin().command({ buildInfo: 1 });
  return info !== undefined && 'ferretdbVersion' in info;
};

/**
 * Opens a dedicated connection (never the global mongoose one). Commands fail
 * fast instead of queueing while the database is away, and writes wait for a
 * majority of a replica set (FerretDB ignores the write concern).
 *
 * FerretDB 1.x runs a filtered update as "read, then write by _id", so two
 * connections can both match the same version; it runs one connection's
 * commands in order, so on FerretDB this process uses one connection and every
 * guarded update stays atomic (for this process; real MongoDB needs no help).
 * Throws UNAVAILABLE `DATABASE_UNAVAILABLE` when no server answers.
 */
export const connectMongo = async (options: MongoOptions): Promise<Connection> => {
  const conn = await open(options, {});
  const ferret = await isFerretDb(conn).catch(async (error: unknown) => {
    await conn.close(true);
    throw classifyMongoError(error);
  });
  if (!ferret) return conn;
  await conn.close();
  return open(options, { maxPoolSize: 1 });
};

/** Closes the connection, waiting for running operations. */
export const disconnectMongo = async (conn: Connection): Promise<void> => {
  await conn.close();
};
