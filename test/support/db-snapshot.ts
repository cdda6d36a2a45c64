import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';

/** Each collection's document count and a hash of its documents in `_id` order. */
export type DbSnapshot = Readonly<
  Record<string, { readonly count: number; readonly hash: string }>
>;

/** What a call may write and still have written nothing: the record that it was made. */
const bookkeeping = {
  /** Rate-limiter counters: refusing a call may count it. */
  skipped: (name: string) =>
    name.startsWith('rate_limit') || name.startsWith('system.') || name === 'audit_head',
  /** A successful privileged read is an audit event by design (docs/design.md §4); any other event is a write. */
  filterOf: (name: string) => (name === 'audit_events' ? { kind: { $ne: 'PRIVILEGED_READ' } } : {}),
};

/**
 * Every collection of the app's database, except rate-limiter counters, the
 * audit log's head hint and its privileged-read events (the bookkeeping of
 * calls, not what they changed) and the server's own `system.*`. A collection
 * that appears later shows up as a new key, so a write anywhere makes two
 * snapshots differ.
 */
export const snapshotDb = async (connection: Connection): Promise<DbSnapshot> => {
  const { db } = connection;
  if (db === undefined) throw new Error('the connection is not open');
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  const names = collections
    .map(({ name }) => name)
    .filter((name) => !bookkeeping.skipped(name))
    .sort();
  const entries = await Promise.all(
    names.map(async (name) => {
      const documents = await db
        .collection(name)
        .find(bookkeeping.filterOf(name))
        .sort({ _id: 1 })
        .toArray();
      const hash = createHash('sha256');
      for (const document of documents) hash.update(mongoose.mongo.BSON.serialize(document));
      return [name, { count: documents.length, hash: hash.digest('hex') }] as const;
    }),
  );
  return Object.fromEntries(entries);
};
