import { compareAndSet } from '../common/compare-and-set.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { DomainError, concurrentUpdate } from '../../domain/domain-error.js';
import { contactOf, hasAddress } from '../../domain/notices.js';
import {
  afterNoticeSent,
  claimDue,
  claimedNotices,
  type NoticeSendResult,
  type OwedNotice,
} from '../../domain/subject-notice.js';
import type { DeletionDeps } from '../deletion-deps.js';
import type { Account } from '../ports/account-directory.js';

/** An error of a notifier that says the notice can never go (no address, refused for good). */
export const undeliverable = (error: unknown): boolean => {
  const { code } = DomainError.from(error);
  return code === 'FAILED_PRECONDITION' || code === 'INVALID_ARGUMENT';
};

const MAX_RECORD_TRIES = 4;

/** How one send went, by the notifier's answer. */
const sendOne = async (
  deps: Pick<DeletionDeps, 'notifier'>,
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
 * to a concurrent change). `also` is what else the sender owes the request:
 * written with the first try only, on the version it knows (true when it was).
 */
const record = async (
  deps: Pick<DeletionDeps, 'clock' | 'policy' | 'requests'>,
  request: DeletionRequest,
  sent: {
    readonly results: readonly SendResult[];
    readonly also?: ((request: DeletionRequest) => DeletionRequest) | undefined;
  },
): Promise<boolean> => {
  const { results, also } = sent;
  return compareAndSet<DeletionRequest, boolean>({
    start: request,
    tries: MAX_RECORD_TRIES,
    decide: (current, attempt) => {
      const at = deps.clock.now();
      const policy = { ...deps.policy.noticeRetry, now: at };
      const told = results.reduce(
        (written, result) => ({ ...written, ...afterNoticeSent(written, result, policy) }),
        current,
      );
      const withAlso = attempt === 0 && also !== undefined;
      const changed = withAlso ? also(told) : told;
      return {
        next: { ...changed, version: current.version + 1, updatedAt: at },
        result: withAlso,
      };
    },
    save: (next, current) => deps.requests.update(next, current),
    reread: () => deps.requests.findById(request.id),
    gone: () => false,
    exhausted: () => {
      throw concurrentUpdate(
        'a notice sent could not be recorded: the request kept changing',
        request.id,
      );
    },
  });
};

/**
 * The request with the notices due now (the head of its outbox) claimed
 * until `until`: whoever writes it sends them, and no other worker finds
 * them due before the claim runs out. As it was when none is due.
 */
export const claimDueNotices = (
  request: DeletionRequest,
  now: Date,
  until: Date,
): DeletionRequest => {
  const outbox = claimDue(request.outbox, now, until);
  return outbox === request.outbox ? request : { ...request, outbox };
};

/**
 * Sends the notices `claimed` holds claimed until `until` (as written), in
 * order, to the contact of the subject's account, and records them in one
 * write, together with `also` (see `record`; written even when nothing was
 * claimed). No send starts once the claim has run out. Returns whether
 * `also` was written.
 */
export const sendClaimedNotices = async (
  deps: Pick<DeletionDeps, 'clock' | 'notifier' | 'policy' | 'requests'>,
  claimed: DeletionRequest,
  options: {
    readonly until: Date;
    /** The subject's account, asked only when there is something to send. */
    readonly account: () => Promise<Account | null>;
    readonly also?: (request: DeletionRequest) => DeletionRequest;
  },
): Promise<boolean> => {
  const { until, also } = options;
  const due = claimedNotices(claimed.outbox, until);
  const account = due.length === 0 ? null : await options.account();
  const results: SendResult[] = [];
  for (const owed of due) {
    // Past its claim, a notice may be another worker's now: leave it to the next pass.
    if (deps.clock.now() >= until) break;
    const result = await sendOne(deps, { ...owed, requestId: claimed.id }, account);
    results.push({ key: owed.key, result });
    if (result.outcome === 'RETRY') break;
  }
  if (results.length === 0 && also === undefined) return false;
  return record(deps, claimed, { results, also });
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
  deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'notifier' | 'policy' | 'requests'>,
  request: DeletionRequest,
): Promise<boolean> => {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + deps.policy.leaseMs);
  const due = claimDueNotices(request, now, until);
  if (due === request) return false;
  const claimed: DeletionRequest = { ...due, version: request.version + 1, updatedAt: now };
  if (!(await deps.requests.update(claimed, request))) return false;
  await sendClaimedNotices(deps, claimed, {
    until,
    account: () => deps.accounts.find(request.subjectId),
  });
  return true;
};
