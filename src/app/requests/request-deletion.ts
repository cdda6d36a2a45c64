import { compareAndSet } from '../common/compare-and-set.js';
import { assertReaches, authorize } from '../../domain/authorization.js';
import { DomainError } from '../../domain/domain-error.js';
import { createDeletionRequest, type DeletionRequest } from '../../domain/deletion-request.js';
import type { SubjectId } from '../../domain/ids.js';
import { contactOf } from '../../domain/notices.js';
import { legalDeadline } from '../../domain/legal-deadline.js';
import type { Principal } from '../../domain/principal.js';
import { assessRisk } from '../../domain/risk-policy.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { parseInput, requestDeletionInput, type RequestDeletionInput } from '../inputs.js';
import type { Account } from '../ports/account-directory.js';
import { spendBudget, subjectKey } from '../decorators/spend-budget.js';
import { claimDueNotices, sendClaimedNotices } from '../notices/send-owed-notices.js';

const alreadyActive = (existing: DeletionRequest | null): DomainError =>
  new DomainError({
    code: 'ALREADY_EXISTS',
    reason: 'DELETION_ALREADY_ACTIVE',
    message: 'the subject already has an active deletion request',
    metadata: existing ? { deletionRequest: `deletionRequests/${existing.id}` } : {},
  });

/** The request a reused idempotency key names; INVALID_ARGUMENT when its parameters differ. */
const replay = (existing: DeletionRequest, fingerprint: string): DeletionRequest => {
  if (existing.requestFingerprint === fingerprint) return existing;
  throw new DomainError({
    code: 'INVALID_ARGUMENT',
    reason: 'REQUEST_ID_REUSED',
    message: 'request_id was already used with other parameters',
    fieldViolations: [{ field: 'requestId', description: 'already used with other parameters' }],
  });
};

/**
 * A concurrent or earlier call got there first. When it carried the same
 * idempotency key this is a retry (same answer); otherwise ALREADY_EXISTS.
 */
const conflict = async (
  deps: Pick<DeletionDeps, 'requests'>,
  seen: {
    readonly key: string | null;
    readonly fingerprint: string;
    readonly active: DeletionRequest | null;
  },
): Promise<DeletionRequest> => {
  const previous = seen.key === null ? null : await deps.requests.findByIdempotencyKey(seen.key);
  if (previous !== null) return replay(previous, seen.fingerprint);
  throw alreadyActive(seen.active);
};

const findAccount = async (
  deps: Pick<DeletionDeps, 'accounts'>,
  subjectId: SubjectId,
): Promise<Account> => {
  const account = await deps.accounts.find(subjectId);
  if (account !== null) return account;
  throw new DomainError({
    code: 'NOT_FOUND',
    reason: 'ACCOUNT_NOT_FOUND',
    message: 'no account with this subject id',
  });
};

/** What a new request is drafted from. */
interface Draft {
  readonly principal: Principal;
  readonly subjectId: SubjectId;
  readonly reason: string;
  readonly account: Account;
  readonly key: string | null;
  readonly fingerprint: string;
}

/** A new request (risk assessed, deadline set) and its one-time code, kept only as a hash. */
const draftRequest = (
  deps: Pick<DeletionDeps, 'clock' | 'codes' | 'ids' | 'policy' | 'trace'>,
  draft: Draft,
): { request: DeletionRequest; code: string } => {
  const { principal, account } = draft;
  const now = deps.clock.now();
  const id = deps.ids.newDeletionRequestId();
  const code = deps.codes.generate();
  const jurisdiction = account.jurisdiction ?? deps.policy.defaultJurisdiction;
  const facts = {
    subjectRoles: account.roles,
    subjectFlagged: account.flagged,
    requestedBySubject:
      principal.actor.kind === 'USER' && principal.ownSubjectId === draft.subjectId,
  };
  const request = createDeletionRequest({
    id,
    subjectId: draft.subjectId,
    requester: principal.actor,
    reason: draft.reason,
    riskReasons: assessRisk(facts, deps.policy.risk),
    jurisdiction,
    legalDeadline: legalDeadline(jurisdiction, now, deps.policy.legalClocks),
    confirmExpireAt: new Date(now.getTime() + deps.policy.codeTtlMs),
    verification: { codeHash: deps.codes.hash(id, code) },
    idempotencyKey: draft.key,
    requestFingerprint: draft.fingerprint,
    now,
    trace: deps.trace.current(),
  });
  return { request, code };
};

/**
 * Creates a deletion request and sends the subject a one-time code.
 * Errors: PERMISSION_DENIED, INVALID_ARGUMENT (`REQUEST_ID_REUSED`), NOT_FOUND
 * (`ACCOUNT_NOT_FOUND`), ALREADY_EXISTS (`DELETION_ALREADY_ACTIVE`), RESOURCE_EXHAUSTED
 * (`RATE_LIMITED`: too many codes sent to the subject), UNAVAILABLE.
 */
export const requestDeletion =
  (
    deps: Pick<
      DeletionDeps,
      | 'accounts'
      | 'afterwards'
      | 'clock'
      | 'codes'
      | 'ids'
      | 'limiter'
      | 'notifier'
      | 'policy'
      | 'requests'
      | 'trace'
    >,
  ) =>
  async (principal: Principal, raw: RequestDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'requestDeletion');
    const input = parseInput(requestDeletionInput, raw);
    assertReaches(reach, input.subjectId, 'requestDeletion');
    const key = input.requestId
      ? `${principal.actor.kind}:${principal.actor.id}:${input.requestId}`
      : null;
    const fingerprint = deps.codes.fingerprint([input.subjectId, input.reason]);
    const previous = key === null ? null : await deps.requests.findByIdempotencyKey(key);
    if (previous !== null) return replay(previous, fingerprint);

    const account = await findAccount(deps, input.subjectId);
    const drafted = draftRequest(deps, {
      principal,
      subjectId: input.subjectId,
      reason: input.reason,
      account,
      key,
      fingerprint,
    });
    // The receipt it owes is claimed by the insert: this replica sends it once the code went.
    const until = new Date(deps.clock.now().getTime() + deps.policy.leaseMs);
    const request = claimDueNotices(drafted.request, deps.clock.now(), until);
    // One active request per subject: the insert's unique index says whether there is one.
    const outcome = await deps.requests.insert(request);
    if (outcome.kind !== 'INSERTED') {
      const winner = await deps.requests.findActiveBySubject(input.subjectId);
      return conflict(deps, { key, fingerprint, active: winner });
    }
    // Each request sends a code: the subject's budget of codes bounds the mail and the guesses.
    try {
      await spendBudget(deps.limiter, { limit: 'codeSend', key: subjectKey(input.subjectId) });
    } catch (error) {
      await withdrawUnconfirmed(deps, request);
      throw error;
    }
    await deliverCode(deps, { request, account, code: drafted.code });
    deps.afterwards.run(() =>
      sendClaimedNotices(deps, request, { until, account: () => Promise.resolve(account) }),
    );
    return request;
  };

const WITHDRAW_TRIES = 4;

/**
 * Removes a request whose code could not be sent, as long as it is still
 * unconfirmed. Its receipt is claimed by the insert and sent only after the
 * code, so another writer is rare (an administrator); a lost race reads the
 * version again.
 */
const withdrawUnconfirmed = async (
  deps: Pick<DeletionDeps, 'requests'>,
  request: DeletionRequest,
): Promise<void> => {
  await compareAndSet<DeletionRequest, undefined>({
    start: request,
    tries: WITHDRAW_TRIES,
    // Only while unconfirmed: a request confirmed meanwhile stays.
    decide: (current) =>
      current.state === 'REQUESTED' && current.confirmationMethod === null
        ? { next: current, result: undefined }
        : { result: undefined },
    save: (_next, current) => deps.requests.remove(current.id, current.version),
    reread: () => deps.requests.findById(request.id),
    gone: () => undefined,
    exhausted: () => undefined,
  });
};

/** Sends the code; if it cannot be sent, the request is withdrawn so the caller can retry. */
const deliverCode = async (
  deps: Pick<DeletionDeps, 'notifier' | 'requests'>,
  sent: { readonly request: DeletionRequest; readonly account: Account; readonly code: string },
): Promise<void> => {
  try {
    await deps.notifier.send({
      notice: {
        kind: 'CONFIRMATION_CODE',
        deletionRequestId: sent.request.id,
        code: sent.code,
        expiresAt: sent.request.confirmExpireAt,
      },
      to: contactOf(sent.account),
      key: `${sent.request.id}/CONFIRMATION_CODE`,
    });
  } catch (error) {
    await withdrawUnconfirmed(deps, sent.request);
    throw new DomainError({
      code: 'UNAVAILABLE',
      reason: 'CODE_DELIVERY_FAILED',
      message: 'the confirmation code could not be sent; retry later',
      metadata: { deletionRequest: sent.request.id },
      cause: error,
    });
  }
};
