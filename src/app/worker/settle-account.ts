import { compareAndSet } from '../common/compare-and-set.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { accountConditionFor } from '../../domain/deletion-state.js';
import type { Account } from '../ports/account-directory.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { attributeKeys, stepSpans } from '../../telemetry/catalogue.js';

const MAX_ROUNDS = 5;

/**
 * Brings the account in line with the request's state: suspended from soft
 * delete on, active once restored, untouched before confirmation. Returns
 * the account when this call suspended it (its contact as it is now).
 */
export const alignAccount = async (
  deps: Pick<DeletionDeps, 'accounts' | 'trace'>,
  request: DeletionRequest,
): Promise<Account | null> => {
  const condition = accountConditionFor(request.state);
  const { subjectId, id: requestId } = request;
  const span = { [attributeKeys.requestId]: requestId };
  if (condition === 'SUSPENDED')
    return deps.trace.inSpan(stepSpans.softDelete, span, () =>
      deps.accounts.suspend(subjectId, requestId),
    );
  if (condition === 'ACTIVE')
    await deps.trace.inSpan(stepSpans.reactivate, span, () =>
      deps.accounts.restore(subjectId, requestId),
    );
  return null;
};

/**
 * Brings the account in line with its request's state and records that it
 * did, as one more version of the request. Safe to repeat and to race: when
 * the request changed meanwhile, it applies the latest state again, so a
 * late suspend can never win over a restore that came after it. Returns the
 * request as it now stands. Requests left unsynced by a crash are picked up
 * by the worker. Starts from `request` as its caller just read or wrote it.
 */
export const settleAccount = async (
  deps: Pick<DeletionDeps, 'requests' | 'accounts' | 'trace'>,
  start: DeletionRequest,
): Promise<DeletionRequest | null> => {
  const { id } = start;
  return compareAndSet<DeletionRequest, DeletionRequest | null>({
    start,
    tries: MAX_ROUNDS,
    decide: async (request, attempt) => {
      // After a lost race the latest state is applied again, synced or not.
      if (request.accountSynced && attempt === 0) return { result: request };
      await alignAccount(deps, request);
      if (request.accountSynced) return { result: request };
      const synced = { ...request, accountSynced: true, version: request.version + 1 };
      return { next: synced, result: synced };
    },
    save: (next, current) => deps.requests.update(next, current),
    reread: () => deps.requests.findById(id),
    gone: () => null,
    exhausted: () => deps.requests.findById(id),
  });
};
