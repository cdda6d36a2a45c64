import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import type { Jurisdiction } from '../../domain/legal-deadline.js';
import type { NoticeChannel } from '../../domain/subject-notice.js';

/** The facts about an account the service needs; contact details stay in the directory. */
export interface Account {
  readonly subjectId: SubjectId;
  readonly roles: readonly string[];
  readonly flagged: boolean;
  readonly jurisdiction: Jurisdiction | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly pushToken: string | null;
  readonly preferredChannel: NoticeChannel | null;
  readonly locale: string | null;
}

/** What the local purge removed. */
export interface LocalErasure {
  readonly accounts: number;
  readonly sessions: number;
  readonly apiTokens: number;
}

/** The accounts, sessions and API tokens of the company, in the same database. Every method is idempotent. */
export interface AccountDirectory {
  find(subjectId: SubjectId): Promise<Account | null>;
  /**
   * Deactivates the account on behalf of a deletion request and deletes all its
   * sessions and API tokens at once. An account deactivated for another reason
   * stays as it is (only its sessions and tokens go). Returns the account when
   * this call deactivated it; null when it did not (already deactivated, or none).
   */
  suspend(subjectId: SubjectId, by: DeletionRequestId): Promise<Account | null>;
  /** Reactivates the account only if `by` deactivated it; revoked sessions stay revoked. */
  restore(subjectId: SubjectId, by: DeletionRequestId): Promise<void>;
  /** Deletes the account, its sessions and its API tokens. */
  erase(subjectId: SubjectId): Promise<LocalErasure>;
}
