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

/** One notice's send, as recorded. */
interface SendResult {
  readonly key: string;
  readonly result: NoticeSendResult;
}

/**
 * Records how the notices of one send went, in one write on the latest
 * version of the request (a lost race reads it again, so no result is lost
 * to a concurrent change).
 */
const record = async (
  deps: DeletionDeps,
  request: DeletionRequest,
  results: readonly SendResult[],
): Promise<void> => {
  let current = request;
  for (let attempt = 0; attempt < MAX_RECORD_TRIES; attempt += 1) {
    const at = deps.clock.now();
    const policy = { ...deps.policy.noticeRetry, now: at };
    const next: DeletionRequest = {
      ...results.reduce(
        (written, sent) => ({ ...written, ...afterNoticeSent(written, sent, policy) }),
        current,
      ),
      version: current.version + 1,
      updatedAt: at,
    };
    if (await deps.requests.update(next, current)) return;
    const fresh = await deps.requests.findById(request.id);
    if (fresh === null) return;
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
 * records them all in one write. First it claims them: their due time moves
 * past a lease in one version-guarded update, so of several workers only
 * one sends. No send starts once the claim has run out, so a notice is sent
 * again only when a worker dies between its sends and their record (with
 * the same `Idempotency-Key`, so a provider that honours it sends once). A
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
  const results: SendResult[] = [];
  for (const owed of due) {
    // Past its claim, a notice may be another worker's now: leave it to the next pass.
    if (deps.clock.now() >= claimedUntil) break;
    const result = await sendOne(deps, { ...owed, requestId: request.id }, account);
    results.push({ key: owed.key, result });
    if (result.outcome === 'RETRY') break;
  }
  if (results.length > 0) await record(deps, claimed, results);
  return true;
};
