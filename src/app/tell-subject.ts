import type { DeletionRequest } from '../domain/deletion-request.js';
import { DomainError } from '../domain/domain-error.js';
import { contactOf, hasAddress } from '../domain/notices.js';
import {
  afterNoticeSent,
  dueNotices,
  type NoticeSendResult,
  type OwedNotice,
} from '../domain/subject-notice.js';
import type { DeletionDeps } from './deletion-deps.js';
import type { Account } from './ports.js';

/** An error of a notifier that says the notice can never go (no address, refused for good). */
export const undeliverable = (error: unknown): boolean => {
  const { code } = DomainError.from(error);
  return code === 'FAILED_PRECONDITION' || code === 'INVALID_ARGUMENT';
};

const MAX_RECORD_TRIES = 4;

/** How one send went, by the notifier's answer. */
const sendOne = async (
  deps: DeletionDeps,
  owed: OwedNotice & { readonly requestId: DeletionRequest['id'] },
  account: Account | null,
): Promise<NoticeSendResult> => {
  const to = account && contactOf(account);
  if (to === null || !hasAddress(to)) return { outcome: 'UNDELIVERABLE' };
  try {
    const receipt = await deps.notifier.send({
      notice: owed.notice,
      to,
      key: `${owed.requestId}/${owed.key}`,
    });
    return { outcome: 'SENT', channel: receipt.channel, messageId: receipt.messageId };
  } catch (error) {
    return { outcome: undeliverable(error) ? 'UNDELIVERABLE' : 'RETRY' };
  }
};

/**
 * Records how one notice went on the latest version of the request (a lost
 * race reads it again, so the result is never lost to a concurrent change).
 * Returns the version written.
 */
const record = async (
  deps: DeletionDeps,
  request: DeletionRequest,
  sent: { readonly key: string; readonly result: NoticeSendResult },
): Promise<DeletionRequest> => {
  let current = request;
  for (let attempt = 0; attempt < MAX_RECORD_TRIES; attempt += 1) {
    const at = deps.clock.now();
    const next: DeletionRequest = {
      ...current,
      ...afterNoticeSent(current, sent, { ...deps.policy.noticeRetry, now: at }),
      version: current.version + 1,
      updatedAt: at,
    };
    if (await deps.requests.update(next, current)) return next;
    const fresh = await deps.requests.findById(request.id);
    if (fresh === null) return current;
    current = fresh;
  }
  throw new DomainError({
    code: 'ABORTED',
    reason: 'CONCURRENT_UPDATE',
    message: 'a notice sent could not be recorded: the request kept changing',
    metadata: { deletionRequest: request.id },
  });
};

/**
 * Sends the notices a request owes its subject that are due (the head of
 * its outbox, in order), to the contact the account directory has now, and
 * records each as it goes. First it claims them: their due time moves past
 * a lease in one version-guarded update, so of several workers only one
 * sends. Each result is recorded before the next send, and no send starts
 * once the claim has run out, so a notice is sent again only when a worker
 * dies between a send and its record (with the same `Idempotency-Key`). A
 * notice whose channel is down holds back the ones after it. False when
 * nothing was due or another worker claimed it.
 */
export const sendOwedNotices = async (
  deps: DeletionDeps,
  request: DeletionRequest,
): Promise<boolean> => {
  const now = deps.clock.now();
  const due = dueNotices(request.outbox, now);
  if (due.length === 0) return false;
  const claimedUntil = new Date(now.getTime() + deps.policy.leaseMs);
  const claimed: DeletionRequest = {
    ...request,
    outbox: request.outbox.map((owed, index) =>
      index < due.length ? { ...owed, dueAt: claimedUntil } : owed,
    ),
    version: request.version + 1,
    updatedAt: now,
  };
  if (!(await deps.requests.update(claimed, request))) return false;

  const account = await deps.accounts.find(request.subjectId);
  let current = claimed;
  for (const owed of due) {
    // Past its claim, a notice may be another worker's now: leave it to the next pass.
    if (deps.clock.now() >= claimedUntil) break;
    const result = await sendOne(deps, { ...owed, requestId: request.id }, account);
    current = await record(deps, current, { key: owed.key, result });
    if (result.outcome === 'RETRY') break;
  }
  return true;
};
