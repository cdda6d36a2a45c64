import type { DeletionRequest } from '../domain/deletion-request.js';
import { DomainError } from '../domain/domain-error.js';
import { contactOf, hasAddress } from '../domain/notices.js';
import {
  afterNoticeSends,
  noticeOfState,
  owe,
  type NoticeSendResult,
  type OwedNotice,
} from '../domain/subject-notice.js';
import type { DeletionDeps } from './deletion-deps.js';
import type { Account } from './ports.js';

/**
 * The request with the notice its subject is owed for the state it just
 * entered put in its outbox, in the same update as the change: a notice can
 * never be lost to a crash between the change and the send.
 */
export const oweSubjectNotice = (request: DeletionRequest, now: Date): DeletionRequest => {
  const notice = noticeOfState(request);
  return notice === null
    ? request
    : {
        ...request,
        outbox: owe(request.outbox, notice, { historyLength: request.history.length, now }),
      };
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
    const { code } = DomainError.from(error);
    return code === 'FAILED_PRECONDITION' || code === 'INVALID_ARGUMENT'
      ? { outcome: 'UNDELIVERABLE' }
      : { outcome: 'RETRY' };
  }
};

/**
 * Sends the notices a request owes its subject that are due, to the contact
 * the account directory has now, and records how each went. First it claims
 * them (their due time moves past a lease in one version-guarded update), so
 * of several workers only one sends; a worker that dies after that leaves a
 * claim that expires. A sent notice is recorded on the latest version (a lost
 * race reads again), so it is not sent again for the same event. False when
 * nothing was due or another worker claimed it.
 */
export const sendOwedNotices = async (
  deps: DeletionDeps,
  request: DeletionRequest,
): Promise<boolean> => {
  const now = deps.clock.now();
  const due = request.outbox.filter((owed) => owed.dueAt <= now);
  if (due.length === 0) return false;
  const claimedUntil = new Date(now.getTime() + deps.policy.leaseMs);
  const dueKeys = new Set(due.map((owed) => owed.key));
  const claimed: DeletionRequest = {
    ...request,
    outbox: request.outbox.map((owed) =>
      dueKeys.has(owed.key) ? { ...owed, dueAt: claimedUntil } : owed,
    ),
    version: request.version + 1,
    updatedAt: now,
  };
  if (!(await deps.requests.update(claimed, request))) return false;

  const account = await deps.accounts.find(request.subjectId);
  const results = new Map<string, NoticeSendResult>();
  // One after the other, in the order they were owed: the subject reads them in that order.
  for (const owed of due)
    results.set(owed.key, await sendOne(deps, { ...owed, requestId: request.id }, account));

  let current = claimed;
  for (let attempt = 0; attempt < MAX_RECORD_TRIES; attempt += 1) {
    const at = deps.clock.now();
    const next: DeletionRequest = {
      ...current,
      ...afterNoticeSends(current, results, { ...deps.policy.retry, now: at }),
      version: current.version + 1,
      updatedAt: at,
    };
    if (await deps.requests.update(next, current)) return true;
    const fresh = await deps.requests.findById(request.id);
    if (fresh === null) return false;
    current = fresh;
  }
  throw new DomainError({
    code: 'ABORTED',
    reason: 'CONCURRENT_UPDATE',
    message: 'the notices sent could not be recorded: the request kept changing',
    metadata: { deletionRequest: request.id },
  });
};
