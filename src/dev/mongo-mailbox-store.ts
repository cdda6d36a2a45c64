import type { Connection } from 'mongoose';
import type { MailboxMessage, MailboxStore } from './mailbox-channel.js';

interface MailboxDocument {
  to: string;
  deletionRequest?: string;
  subject: string;
  text: string;
  sentAt: Date;
}

/** The dev mailbox in a collection of the service's database (development only). */
export const createMongoMailboxStore = (
  connection: Connection,
  collectionName = 'dev_mailbox',
): MailboxStore => {
  const collection = connection.collection<MailboxDocument>(collectionName);
  return {
    deliver: async (message) => {
      await collection.insertOne({ ...message });
    },
    expire: async (before) =>
      (await collection.deleteMany({ sentAt: { $lt: before } })).deletedCount,
    list: async ({ to, deletionRequest, limit }) => {
      const rows = await collection
        .find({
          ...(to === undefined ? {} : { to }),
          ...(deletionRequest === undefined ? {} : { deletionRequest }),
        })
        .sort({ sentAt: -1 })
        .limit(limit)
        .toArray();
      return rows.map((row): MailboxMessage => ({
        to: row.to,
        ...(row.deletionRequest === undefined ? {} : { deletionRequest: row.deletionRequest }),
        subject: row.subject,
        text: row.text,
        sentAt: row.sentAt,
      }));
    },
  };
};
