import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';

/** Each collection's document count and a hash of its documents in `_id` order. */
export type DbSnapshot = Readonly<
  Record<string, { readonly count: number; readonly hash: string }>
>;

/**
 * Every collection of the app's database, except rate-limiter counters
 * (`rate_limit*`: refusing a call may count it) and the server's own `system.*`.
 * A collection that appears later shows up as a new key, so a write anywhere
 * makes two snapshots differ.
 */
export const snapshotDb = async (connection: Connection): Promise<DbSnapshot> => {
  const { db } = connection;
  if (db === undefined) throw new Error('the connection is not open');
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  const names = collections
    .map(({ name }) => name)
    .filter((name) => !name.startsWith('rate_limit') && !name.startsWith('system.'))
    .sort();
  const entries = await Promise.all(
    names.map(async (name) => {
      const documents = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
      const hash = createHash('sha256');
      for (const document of documents) hash.update(mongoose.mongo.BSON.serialize(document));
      return [name, { count: documents.length, hash: hash.digest('hex') }] as const;
    }),
  );
  return Object.fromEntries(entries);
};
