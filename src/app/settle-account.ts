import { accountConditionFor } from '../domain/deletion-state.js';
import type { DeletionRequestId } from '../domain/ids.js';
import type { AccountDirectory, DeletionRequestRepository } from './ports.js';

const MAX_ROUNDS = 5;

/**
 * Brings the account in line with its request's state (suspended from soft
 * delete on, active once restored) and records that it did. Safe to repeat and
 * to race: when the request changed meanwhile, it applies the latest state
 * again, so a late suspend can never win over a restore that came after it.
 * Requests left unsynced by a crash are picked up by the worker.
 */
export const settleAccount = async (
  deps: { readonly requests: DeletionRequestRepository; readonly accounts: AccountDirectory },
  id: DeletionRequestId,
): Promise<void> => {
  let raced = false;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const request = await deps.requests.findById(id);
    if (request === null || (request.accountSynced && !raced)) return;
    const condition = accountConditionFor(request.state);
    if (condition === 'SUSPENDED') await deps.accounts.suspend(request.subjectId);
    if (condition === 'ACTIVE') await deps.accounts.restore(request.subjectId);
    if (await deps.requests.markAccountSynced(id, request.version)) return;
    raced = true;
  }
};
