import { afterAll, beforeAll, inject } from 'vitest';
import { connectMongo, disconnectMongo } from '../../src/persistence/mongo/mongo-connection.js';

type Connection = Awaited<ReturnType<typeof connectMongo>>;

/**
 * A database of its own on the shared test server for the calling file:
 * connected before its tests, dropped after them. Returns the connection
 * (throws when asked before it is connected).
 */
export const useTestDatabase = (prefix: string): (() => Connection) => {
  let conn: Connection | undefined;
  beforeAll(async () => {
    conn = await connectMongo({
      uri: inject('mongoUri'),
      dbName: `${prefix}_${String(process.pid)}_${String(Date.now())}`,
    });
  });
  afterAll(async () => {
    if (conn === undefined) return;
    await conn.dropDatabase();
    await disconnectMongo(conn);
  });
  return () => {
    if (conn === undefined) throw new Error('not connected');
    return conn;
  };
};
