import type {
  Account,
  AccountDirectory,
  LocalErasure,
} from '../../../src/app/ports/account-directory.js';
import type { SubjectId } from '../../../src/domain/ids.js';
import { isJurisdiction } from '../../../src/domain/legal-deadline.js';
import { isNoticeChannel } from '../../../src/domain/subject-notice.js';
import { outageSwitch, type Outage } from './store-away.js';

/**
 * An account as the directory holds it: any field may be missing, and the
 * jurisdiction and channel are free text there (what the service does not
 * know reads as null). Sessions and API tokens are counted.
 */
export interface StoredAccount {
  readonly subjectId: SubjectId;
  readonly roles?: readonly string[];
  readonly flagged?: boolean;
  readonly jurisdiction?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly pushToken?: string;
  /** The channel the subject asked to be told on. */
  readonly notifyBy?: string;
  readonly locale?: string;
  /** Deactivated before, for a reason of its own (default: active). */
  readonly deactivated?: boolean;
  readonly sessions?: number;
  readonly apiTokens?: number;
}

/** The account directory in memory. */
export interface FakeAccountDirectory extends AccountDirectory, Outage {
  /** Adds (or replaces) an account with its sessions and tokens. */
  seed(account: StoredAccount): void;
  /** Whether the account is active; null when there is none. */
  isActive(subjectId: SubjectId): boolean | null;
  /** The sessions and API tokens the subject still has. */
  owned(subjectId: SubjectId): { readonly sessions: number; readonly apiTokens: number };
}

interface Held {
  readonly stored: StoredAccount;
  active: boolean;
  deactivatedBy: string | null;
}

const toAccount = (stored: StoredAccount): Account => ({
  subjectId: stored.subjectId,
  roles: [...(stored.roles ?? [])],
  flagged: stored.flagged ?? false,
  jurisdiction:
    stored.jurisdiction !== undefined && isJurisdiction(stored.jurisdiction)
      ? stored.jurisdiction
      : null,
  email: stored.email ?? null,
  phone: stored.phone ?? null,
  pushToken: stored.pushToken ?? null,
  preferredChannel: isNoticeChannel(stored.notifyBy) ? stored.notifyBy : null,
  locale: stored.locale ?? null,
});

/**
 * A fake account directory. Suspending deactivates an active account on
 * behalf of a request (only that request restores it) and revokes every
 * session and token, also of an account deactivated for another reason.
 */
export const fakeAccountDirectory = (): FakeAccountDirectory => {
  const accounts = new Map<SubjectId, Held>();
  const sessions = new Map<SubjectId, number>();
  const apiTokens = new Map<SubjectId, number>();
  const outage = outageSwitch();
  const revokeAll = (subjectId: SubjectId): { sessions: number; apiTokens: number } => {
    const revoked = {
      sessions: sessions.get(subjectId) ?? 0,
      apiTokens: apiTokens.get(subjectId) ?? 0,
    };
    sessions.delete(subjectId);
    apiTokens.delete(subjectId);
    return revoked;
  };
  return {
    setDown: outage.setDown,
    seed: (account) => {
      accounts.set(account.subjectId, {
        stored: { ...account },
        active: account.deactivated !== true,
        deactivatedBy: null,
      });
      sessions.set(account.subjectId, account.sessions ?? 0);
      apiTokens.set(account.subjectId, account.apiTokens ?? 0);
    },
    isActive: (subjectId) => accounts.get(subjectId)?.active ?? null,
    owned: (subjectId) => ({
      sessions: sessions.get(subjectId) ?? 0,
      apiTokens: apiTokens.get(subjectId) ?? 0,
    }),
    find: (subjectId) =>
      outage.guard(() => {
        const held = accounts.get(subjectId);
        return held === undefined ? null : toAccount(held.stored);
      }),
    suspend: (subjectId, by) =>
      outage.guard(() => {
        const held = accounts.get(subjectId);
        revokeAll(subjectId);
        if (held?.active !== true) return null;
        held.active = false;
        held.deactivatedBy = by;
        return toAccount(held.stored);
      }),
    restore: (subjectId, by) =>
      outage.guard(() => {
        const held = accounts.get(subjectId);
        if (held?.active !== false || held.deactivatedBy !== by) return;
        held.active = true;
        held.deactivatedBy = null;
      }),
    erase: (subjectId) =>
      outage.guard((): LocalErasure => {
        const existed = accounts.delete(subjectId);
        return { accounts: existed ? 1 : 0, ...revokeAll(subjectId) };
      }),
  };
};
