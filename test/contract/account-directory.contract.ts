import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountDirectory } from '../../src/app/ports/account-directory.js';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import type { StoredAccount } from '../support/fakes/account-directory.js';
import { aSubjectId } from '../fixtures/deletion-request-builder.js';

/** What the contract runs against: a directory, and how an account gets into it. */
export interface AccountDirectorySubject {
  readonly directory: AccountDirectory;
  /** Puts an account (with its sessions and API tokens) where the directory reads it. */
  readonly seed: (account: StoredAccount) => Promise<void>;
}

const byRequest = 'req-suspender' as DeletionRequestId;
const byAnother = 'req-other' as DeletionRequestId;

/** The contract of AccountDirectory: every method idempotent, suspension owned by one request. */
export const describeAccountDirectoryContract = (
  name: string,
  makeSubject: () => Promise<AccountDirectorySubject>,
): void => {
  describe(`AccountDirectory contract: ${name}`, () => {
    let directory: AccountDirectory;
    let seed: AccountDirectorySubject['seed'];
    beforeEach(async () => {
      ({ directory, seed } = await makeSubject());
    });

    /** An active account of a fresh subject with two sessions and one API token. */
    const anAccount = async (fields: Partial<StoredAccount> = {}): Promise<SubjectId> => {
      const subjectId = aSubjectId();
      await seed({
        roles: ['member'],
        flagged: false,
        sessions: 2,
        apiTokens: 1,
        ...fields,
        subjectId,
      });
      return subjectId;
    };

    it('reads the facts of an account, what it lacks or the service does not know as null', async () => {
      const full = await anAccount({
        email: 'e@example.test',
        phone: '+100',
        pushToken: 'device-1',
        notifyBy: 'push',
        jurisdiction: 'CCPA',
        locale: 'de',
        roles: ['admin'],
        flagged: true,
      });
      const bare = await anAccount({ jurisdiction: 'ELSEWHERE', notifyBy: 'pigeon' });
      expect(await directory.find(full)).toEqual({
        subjectId: full,
        roles: ['admin'],
        flagged: true,
        jurisdiction: 'CCPA',
        email: 'e@example.test',
        phone: '+100',
        pushToken: 'device-1',
        preferredChannel: 'push',
        locale: 'de',
      });
      expect(await directory.find(bare)).toEqual({
        subjectId: bare,
        roles: ['member'],
        flagged: false,
        jurisdiction: null,
        email: null,
        phone: null,
        pushToken: null,
        preferredChannel: null,
        locale: null,
      });
      expect(await directory.find(aSubjectId())).toBeNull();
    });

    it('suspends an account once, revoking its sessions and tokens, and answers the account it deactivated', async () => {
      const subjectId = await anAccount({ email: 'suspended@example.test' });
      const bystander = await anAccount();
      expect(await directory.suspend(subjectId, byRequest)).toMatchObject({
        subjectId,
        email: 'suspended@example.test',
      });
      expect(await directory.suspend(subjectId, byRequest)).toBeNull();
      expect(await directory.suspend(subjectId, byAnother)).toBeNull();
      expect(await directory.suspend(aSubjectId(), byRequest)).toBeNull();
      // Still readable while deactivated: the notices after a suspension need its contact.
      expect((await directory.find(subjectId))?.email).toBe('suspended@example.test');

      expect(await directory.erase(subjectId)).toEqual({ accounts: 1, sessions: 0, apiTokens: 0 });
      expect(await directory.erase(bystander)).toEqual({ accounts: 1, sessions: 2, apiTokens: 1 });
    });

    it('restores only the account the request deactivated, without bringing its sessions back', async () => {
      const subjectId = await anAccount();
      await directory.suspend(subjectId, byRequest);
      await directory.restore(subjectId, byAnother);
      // Another request's restore leaves it deactivated: a suspension finds nothing to do.
      expect(await directory.suspend(subjectId, byAnother)).toBeNull();

      await directory.restore(subjectId, byRequest);
      await directory.restore(subjectId, byRequest);
      // Active again: the next suspension deactivates it anew.
      expect(await directory.suspend(subjectId, byAnother)).toMatchObject({ subjectId });
      await expect(directory.restore(aSubjectId(), byRequest)).resolves.toBeUndefined();
      expect(await directory.erase(subjectId)).toEqual({ accounts: 1, sessions: 0, apiTokens: 0 });
    });

    it('leaves an account deactivated for another reason deactivated, its sessions and tokens revoked', async () => {
      const subjectId = await anAccount({ deactivated: true });
      expect(await directory.suspend(subjectId, byRequest)).toBeNull();
      await directory.restore(subjectId, byRequest);
      expect(await directory.suspend(subjectId, byAnother)).toBeNull();
      expect(await directory.erase(subjectId)).toEqual({ accounts: 1, sessions: 0, apiTokens: 0 });
    });

    it('erases the account, its sessions and tokens, reports what it removed, and nothing the second time', async () => {
      const subjectId = await anAccount();
      const bystander = await anAccount();
      expect(await directory.erase(subjectId)).toEqual({ accounts: 1, sessions: 2, apiTokens: 1 });
      expect(await directory.find(subjectId)).toBeNull();
      expect(await directory.erase(subjectId)).toEqual({ accounts: 0, sessions: 0, apiTokens: 0 });
      expect(await directory.suspend(subjectId, byRequest)).toBeNull();
      expect(await directory.find(bystander)).toMatchObject({ subjectId: bystander });
      expect(await directory.erase(bystander)).toEqual({ accounts: 1, sessions: 2, apiTokens: 1 });
    });
  });
};
