import type { Collection, Connection, mongo } from 'mongoose';
import type { Account, AccountDirectory, LocalErasure } from '../../app/ports/account-directory.js';
import type { SubjectCipher } from '../../app/ports/subject-keys.js';
import type { SubjectId } from '../../domain/ids.js';
import { isJurisdiction } from '../../domain/legal-deadline.js';
import { isNoticeChannel } from '../../domain/subject-notice.js';
import { mongoCall } from './classify-mongo-error.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';

/** The collections of the company's account directory. */
export interface AccountCollectionNames {
  readonly accounts: string;
  readonly sessions: string;
  readonly apiTokens: string;
}

/** An account as the directory stores it; other fields may exist and are left alone. */
interface AccountDocument {
  _id: string;
  email?: string;
  phone?: string;
  roles?: string[];
  flagged?: boolean;
  jurisdiction?: string;
  locale?: string;
  /** The subject's device registration with the push gateway. */
  pushToken?: string;
  /** The channel the subject asked to be told on: email, sms or push. */
  notifyBy?: string;
  status: 'ACTIVE' | 'DEACTIVATED';
  deactivatedAt?: Date;
  /** The deletion request that deactivated the account, so undelete restores only what it did. */
  deactivatedBy?: string;
  /**
   * The contact fields (email, phone, pushToken), each encrypted with the
   * subject's data key: once the key is destroyed nothing opens them, in
   * this collection or in any copy of its files. The plain fields are then absent.
   */
  sealed?: Record<string, string>;
}

/** The contact fields an account keeps only sealed. */
const CONTACT_FIELDS = ['email', 'phone', 'pushToken'] as const;

/** What binds an account's sealed contact to it (a value moved to another account does not open). */
const contextOf = (subjectId: string): string => `account:${subjectId}`;

/**
 * An account document as the directory stores it: its contact fields sealed
 * under the subject's data key (made on first use), none of them in plain.
 * For whatever writes accounts: the demo seed, tests, a migration.
 */
export const sealAccountContact = async <
  T extends { _id: string } & Partial<Record<(typeof CONTACT_FIELDS)[number], string>>,
>(
  cipher: SubjectCipher,
  doc: T,
): Promise<Omit<T, (typeof CONTACT_FIELDS)[number]> & { sealed?: Record<string, string> }> => {
  const plain = Object.fromEntries(
    CONTACT_FIELDS.flatMap((field) => (doc[field] === undefined ? [] : [[field, doc[field]]])),
  ) as Record<string, string>;
  const rest = Object.fromEntries(
    Object.entries(doc).filter(([field]) => !(CONTACT_FIELDS as readonly string[]).includes(field)),
  ) as Omit<T, (typeof CONTACT_FIELDS)[number]>;
  if (Object.keys(plain).length === 0) return rest;
  return { ...rest, sealed: await cipher.seal(doc._id as SubjectId, contextOf(doc._id), plain) };
};

/**
 * The document with its contact fields opened: from `sealed` (none once the
 * subject's key is destroyed), or as stored by a writer that does not seal.
 */
const openContact = async (
  cipher: SubjectCipher,
  doc: AccountDocument,
): Promise<AccountDocument> => {
  if (doc.sealed === undefined) return doc;
  const opened = (await cipher.open(doc._id as SubjectId, contextOf(doc._id), doc.sealed)) ?? {};
  return { ...doc, ...opened };
};

/** Sessions and API tokens: only the owner matters here (and the `_id`, to delete by). */
interface OwnedDocument {
  _id: mongo.ObjectId | string | number;
  subjectId: string;
}

/**
 * Documents deleted per command at most. FerretDB 1.24 (SQLite) deletes the
 * documents a filter matches with one statement over their ids and fails
 * above 32,766 of them ("too many SQL variables"), so one `deleteMany` of a
 * subject with more sessions than that never succeeds; it also keeps each
 * write short.
 */
export const DELETE_BATCH = 10_000;

/**
 * Deletes every document of `subjectId`, at most {@link DELETE_BATCH} per
 * command. The ids of the next batch are read first (ids only, in `_id`
 * order): none → done, without a delete; fewer than a batch → one
 * `deleteMany` of the subject, the last command; a full batch → a
 * `deleteMany` bounded by its last id, then the next. Batches by a range,
 * not by a list of ids: an `$in` (like a delete by `_id` per document) is no
 * index lookup on FerretDB 1.x, which made a batch cost as much as the whole
 * subject. Each batch deletes at least its last document, so it ends even
 * when ids of several types sort apart (`$lte` compares within a type).
 * Stopped mid-way, it leaves whole batches done; running it again deletes
 * the rest. Returns how many it deleted (this run only).
 */
const deleteOwned = async (
  collection: Collection<OwnedDocument>,
  subjectId: string,
): Promise<number> => {
  let removed = 0;
  for (;;) {
    const batch = await collection
      .find({ subjectId }, { projection: { _id: 1 }, batchSize: DELETE_BATCH })
      .sort({ _id: 1 })
      .limit(DELETE_BATCH)
      .toArray();
    const last = batch.at(-1);
    if (last === undefined) return removed;
    const whole = batch.length < DELETE_BATCH;
    const filter = whole ? { subjectId } : { subjectId, _id: { $lte: last._id } };
    removed += (await collection.deleteMany(filter)).deletedCount;
    if (whole) return removed;
  }
};

const toAccount = (doc: AccountDocument): Account => ({
  subjectId: doc._id as SubjectId,
  roles: doc.roles ?? [],
  flagged: doc.flagged ?? false,
  jurisdiction:
    doc.jurisdiction !== undefined && isJurisdiction(doc.jurisdiction) ? doc.jurisdiction : null,
  email: doc.email ?? null,
  phone: doc.phone ?? null,
  pushToken: doc.pushToken ?? null,
  preferredChannel: isNoticeChannel(doc.notifyBy) ? doc.notifyBy : null,
  locale: doc.locale ?? null,
});

/**
 * The account directory in three collections of the same database. Every
 * method is idempotent; sessions and tokens are deleted on the server, never
 * loaded. Failures of the database surface as UNAVAILABLE.
 */
export const createMongoAccountDirectory = (
  conn: Connection,
  names: AccountCollectionNames,
  cipher: SubjectCipher,
): AccountDirectory => {
  const accounts = conn.collection<AccountDocument>(names.accounts);
  const sessions = conn.collection<OwnedDocument>(names.sessions);
  const apiTokens = conn.collection<OwnedDocument>(names.apiTokens);
  const call = <T>(method: string, fn: () => Promise<T>): Promise<T> =>
    mongoCall(persistenceSpan('accounts', method), {}, fn);
  const revokeAll = (subjectId: string) =>
    Promise.all([deleteOwned(sessions, subjectId), deleteOwned(apiTokens, subjectId)]);

  return {
    find: (subjectId) =>
      call('find', async () => {
        const doc = await accounts.findOne({ _id: subjectId });
        return doc && toAccount(await openContact(cipher, doc));
      }),
    suspend: (subjectId, by) =>
      call('suspend', async () => {
        // Guarded by status: a repeat keeps the first deactivation, and an
        // account deactivated for another reason is not claimed by this request.
        const suspended = await accounts.findOneAndUpdate(
          { _id: subjectId, status: { $ne: 'DEACTIVATED' } },
          {
            $set: { status: 'DEACTIVATED', deactivatedBy: by },
            $currentDate: { deactivatedAt: true },
          },
          { returnDocument: 'after' },
        );
        await revokeAll(subjectId);
        return suspended && toAccount(await openContact(cipher, suspended));
      }),
    restore: (subjectId, by) =>
      call('restore', async () => {
        await accounts.updateOne(
          { _id: subjectId, status: 'DEACTIVATED', deactivatedBy: by },
          { $set: { status: 'ACTIVE' }, $unset: { deactivatedAt: '', deactivatedBy: '' } },
        );
      }),
    erase: (subjectId) =>
      call('erase', async (): Promise<LocalErasure> => {
        const [account, [removedSessions, removedTokens]] = await Promise.all([
          accounts.deleteOne({ _id: subjectId }),
          revokeAll(subjectId),
        ]);
        return {
          accounts: account.deletedCount,
          sessions: removedSessions,
          apiTokens: removedTokens,
        };
      }),
  };
};
