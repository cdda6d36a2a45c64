import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { KeyEncryptionKey, SubjectKeyStore } from '../../app/ports/subject-keys.js';
import type { SubjectId } from '../../domain/ids.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';

/** One subject's data key, as kept: only wrapped by the KEK. */
interface SubjectKeyDocument {
  /** The subject id: every lookup is by `_id` (indexed on every server). */
  _id: string;
  wrappedKey: string;
  createdAt: Date;
}

/** The collection of subject keys, in the key vault database. */
export const SUBJECT_KEYS = 'subject_keys';

const DATA_KEY_BYTES = 32;
const NAMESPACE_EXISTS = 48;

/**
 * Creates the key vault's collection at start-up (a migration step), so that
 * replicas making their first keys at once never race to create the database.
 * Throws UNAVAILABLE when the database is away.
 */
export const migrateKeyVault = (vault: Connection): Promise<void> =>
  mongoCall(persistenceSpan(SUBJECT_KEYS, 'migrate'), {}, async () => {
    try {
      await vault.db?.createCollection(SUBJECT_KEYS);
    } catch (error) {
      if ((error as { code?: unknown }).code !== NAMESPACE_EXISTS) throw error;
    }
  });

/**
 * Subjects' data keys in a key vault: a database of its own (like MongoDB
 * CSFLE's key vault), not the one holding the data, so that a backup of the
 * data holds no key, and the vault can be backed up apart (with a retention
 * no longer than the grace period) or not at all. Destroying a key deletes
 * its document; with a local KEK a copy of the vault taken before would
 * still hold it, which is why the vault's backups must expire (a KMS KEK
 * that is itself destroyed is the stronger answer).
 */
export const createMongoSubjectKeyStore = (
  vault: Connection,
  kek: KeyEncryptionKey,
): SubjectKeyStore => {
  const keys = vault.collection<SubjectKeyDocument>(SUBJECT_KEYS);
  const call = <T>(method: string, fn: () => Promise<T>): Promise<T> =>
    mongoCall(persistenceSpan(SUBJECT_KEYS, method), {}, fn);
  const stored = async (subjectId: SubjectId): Promise<Uint8Array | null> => {
    const found = await keys.findOne({ _id: subjectId });
    return found && kek.unwrap(found.wrappedKey, subjectId);
  };
  return {
    getOrCreate: (subjectId) =>
      call('get_or_create', async () => {
        // One round trip: the fresh key is kept only if none exists (the upsert answers the one that does).
        const fresh = new Uint8Array(randomBytes(DATA_KEY_BYTES));
        const wrappedKey = await kek.wrap(fresh, subjectId);
        const upsert = () =>
          keys.findOneAndUpdate(
            { _id: subjectId },
            { $setOnInsert: { wrappedKey, createdAt: new Date() } },
            { upsert: true, returnDocument: 'after' },
          );
        // Two replicas upserting at once: one inserts, the other may be refused (FerretDB) and reads.
        const kept = await upsert().catch(async (error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
          return keys.findOne({ _id: subjectId });
        });
        if (kept === null) throw new Error('the subject key was made but cannot be read');
        return kept.wrappedKey === wrappedKey ? fresh : kek.unwrap(kept.wrappedKey, subjectId);
      }),
    find: (subjectId) => call('find', () => stored(subjectId)),
    destroy: (subjectId) =>
      call('destroy', async () => {
        await keys.deleteOne({ _id: subjectId });
      }),
  };
};
