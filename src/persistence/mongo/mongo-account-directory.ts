import type { Connection } from 'mongoose';
import type { Account, AccountDirectory, LocalErasure } from '../../app/ports.js';
import type { SubjectId } from '../../domain/ids.js';
import { isJurisdiction } from '../../domain/legal-deadline.js';
import { mongoCall } from './classify-mongo-error.js';
import { persistenceSpan } from '../../app/telemetry-catalogue.js';

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
  status: 'ACTIVE' | 'DEACTIVATED';
  deactivatedAt?: Date;
  /** The deletion request that deactivated the account, so undelete restores only what it did. */
  deactivatedBy?: string;
}

/** Sessions and API tokens: only the owner matters here. */
interface OwnedDocument {
  subjectId: string;
}

const toAccount = (doc: AccountDocument): Account => ({
  subjectId: doc._id as SubjectId,
  roles: doc.roles ?? [],
  flagged: doc.flagged ?? false,
  jurisdiction:
    doc.jurisdiction !== undefined && isJurisdiction(doc.jurisdiction) ? doc.jurisdiction : null,
  email: doc.email ?? null,
  phone: doc.phone ?? null,
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
): AccountDirectory => {
  const accounts = conn.collection<AccountDocument>(names.accounts);
  const sessions = conn.collection<OwnedDocument>(names.sessions);
  const apiTokens = conn.collection<OwnedDocument>(names.apiTokens);
  const call = <T>(method: string, fn: () => Promise<T>): Promise<T> =>
    mongoCall(persistenceSpan('accounts', method), {}, fn);
  const revokeAll = (subjectId: string) =>
    Promise.all([sessions.deleteMany({ subjectId }), apiTokens.deleteMany({ subjectId })]);

  return {
    find: (subjectId) =>
      call('find', async () => {
        const doc = await accounts.findOne({ _id: subjectId });
        return doc && toAccount(doc);
      }),
    suspend: (subjectId, by) =>
      call('suspend', async () => {
        // Guarded by status: a repeat keeps the first deactivation, and an
        // account deactivated for another reason is not claimed by this request.
        await accounts.updateOne(
          { _id: subjectId, status: { $ne: 'DEACTIVATED' } },
          {
            $set: { status: 'DEACTIVATED', deactivatedBy: by },
            $currentDate: { deactivatedAt: true },
          },
        );
        await revokeAll(subjectId);
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
          sessions: removedSessions.deletedCount,
          apiTokens: removedTokens.deletedCount,
        };
      }),
  };
};
