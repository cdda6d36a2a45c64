import mongoose, { type Connection } from 'mongoose';
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

const open = async (options: MongoOptions): Promise<Connection> => {
  let conn: Connection | undefined;
  try {
    conn = mongoose.createConnection(options.uri, {
      dbName: options.dbName,
      autoIndex: options.autoIndex ?? false,
      autoCreate: false,
      bufferCommands: false,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
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
 * majority of a replica set (FerretDB ignores the write concern). Atomic
 * changes do not rely on the server applying a filtered update atomically
 * (FerretDB 1.24 does not): see version-claims.ts.
 * Throws UNAVAILABLE `DATABASE_UNAVAILABLE` when no server answers.
 */
export const connectMongo = (options: MongoOptions): Promise<Connection> => open(options);

/** Closes the connection, waiting for running operations. */
export const disconnectMongo = async (conn: Connection): Promise<void> => {
  await conn.close();
};
