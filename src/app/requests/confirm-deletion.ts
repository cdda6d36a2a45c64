import { authorize } from '../../domain/authorization.js';
import { DomainError, preconditionFailed } from '../../domain/domain-error.js';
import type { ConfirmationMethod, DeletionRequest } from '../../domain/deletion-request.js';
import { assertConfirmable, confirm, lockOut, repeats } from '../../domain/lifecycle.js';
import { systemActor, type Principal } from '../../domain/principal.js';
import { assertStepUp } from '../../domain/step-up.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { confirmDeletionInput, parseInput, type ConfirmDeletionInput } from '../inputs.js';
import { loadRequest } from './load-request.js';
import { mutateRequest } from './mutate-request.js';
import { spendBudget, subjectKey } from '../decorators/spend-budget.js';
import { oweNotices } from '../notices/owe-notices.js';
import { outboxDueAt } from '../../domain/subject-notice.js';
import type { Account } from '../ports/account-directory.js';
import { alignAccount, settleAccount } from '../worker/settle-account.js';
import { claimDueNotices, sendClaimedNotices } from '../notices/send-owed-notices.js';
import { attributeKeys, stepSpans } from '../../telemetry/catalogue.js';
import { changeContextOf } from '../common/change-context.js';

/**
 * Out of attempts: the request ends (EXPIRED, `TOO_MANY_ATTEMPTS`) so the
 * subject can start a new one, and the caller gets FAILED_PRECONDITION.
 */
const lockOutAndRefuse = async (
  deps: Pick<DeletionDeps, 'clock' | 'requests' | 'trace'>,
  request: DeletionRequest,
): Promise<never> => {
  await mutateRequest(deps.requests, {
    id: request.id,
    reach: { kind: 'ANY' },
    operation: 'confirmDeletion',
    change: (current) =>
      current.state === 'REQUESTED'
        ? lockOut(current, {
            actor: systemActor('confirmation'),
            now: deps.clock.now(),
            ...deps.trace.current(),
          })
        : current,
  }).catch(() => undefined);
  throw preconditionFailed(
    'TOO_MANY_ATTEMPTS',
    'too many wrong codes; request a new deletion',
    request.id,
  );
};

/**
 * Spends one of the subject's guesses (across all its requests and replicas),
 * then one of the request's attempts, then compares the code in constant time.
 * Spending comes first, so concurrent guesses never outrun either budget.
 */
const checkCode = async (
  deps: Pick<DeletionDeps, 'clock' | 'codes' | 'limiter' | 'policy' | 'requests' | 'trace'>,
  request: DeletionRequest,
  code: string,
): Promise<void> => {
  await spendBudget(deps.limiter, {
    limit: 'confirmAttempt',
    key: subjectKey(request.subjectId),
  });
  const reserved = await deps.requests.reserveConfirmationAttempt(
    request.id,
    deps.policy.maxConfirmAttempts,
  );
  if (!reserved) await lockOutAndRefuse(deps, request);
  const hash = request.verification?.codeHash;
  if (hash !== undefined && deps.codes.matches(request.id, code, hash)) return;
  throw new DomainError({
    code: 'INVALID_ARGUMENT',
    reason: 'CODE_INVALID',
    message: 'the code is not valid for this request',
    metadata: { deletionRequest: request.id },
    fieldViolations: [{ field: 'code', description: 'does not match' }],
  });
};

/**
 * Confirms a REQUESTED request with its one-time code or a step-up token.
 * A retry by the caller who confirmed it answers the request as it is (and
 * settles its account if that is still owed).
 * Errors: PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT (`CODE_INVALID`),
 * FAILED_PRECONDITION (`INVALID_STATE`, `CODE_EXPIRED`, `TOO_MANY_ATTEMPTS`, `STEP_UP_REQUIRED`),
 * RESOURCE_EXHAUSTED (`RATE_LIMITED`: too many codes tried for the subject), UNAVAILABLE.
 */
export const confirmDeletion =
  (
    deps: Pick<
      DeletionDeps,
      | 'accounts'
      | 'afterwards'
      | 'clock'
      | 'codes'
      | 'limiter'
      | 'notifier'
      | 'participants'
      | 'policy'
      | 'requests'
      | 'schedule'
      | 'trace'
    >,
  ) =>
  async (principal: Principal, raw: ConfirmDeletionInput): Promise<DeletionRequest> => {
    const reach = authorize(principal, 'confirmDeletion');
    const input = parseInput(confirmDeletionInput, raw);
    const target = { id: input.name, reach, operation: 'confirmDeletion' } as const;
    const request = await loadRequest(deps.requests, target);
    // A retry after a lost answer: the request as it is, its account settled if still owed.
    if (repeats(request, principal.actor, 'confirm'))
      return (await settleAccount(deps, request)) ?? request;
    assertConfirmable(request, deps.clock.now());
    const method: ConfirmationMethod = input.code === undefined ? 'STEP_UP' : 'ONE_TIME_CODE';
    await deps.trace.inSpan(
      stepSpans.verify,
      { [attributeKeys.requestId]: request.id, [attributeKeys.confirmMethod]: method },
      async () => {
        if (input.code === undefined)
          assertStepUp(principal, request, { ...deps.policy.stepUp, now: deps.clock.now() });
        else await checkCode(deps, request, input.code);
      },
    );
    // The notices the change owes are claimed by this write: this replica sends them after answering.
    const until = new Date(deps.clock.now().getTime() + deps.policy.leaseMs);
    const confirmed = await mutateRequest(deps.requests, {
      ...target,
      loaded: request,
      change: (current) =>
        claimDueNotices(
          oweNotices(
            deps,
            confirm(
              current,
              { method, gracePeriodMs: deps.policy.gracePeriodMs },
              changeContextOf(deps, principal),
            ),
          ),
          deps.clock.now(),
          until,
        ),
    });
    // The account is suspended before the answer; the record of it goes with the notices' record.
    const suspended = confirmed.accountSynced ? null : await alignAccount(deps, confirmed);
    deps.afterwards.run(async () => {
      try {
        await finishConfirmed(deps, confirmed, { until, suspended });
      } finally {
        // The purge (grace period 0) may be due before the worker's next pass: woken once the
        // write above is done, the worker does not race it for the request.
        const due = [confirmed.purgeAt, outboxDueAt(confirmed.outbox)].filter((at) => at !== null);
        if (due.length > 0)
          deps.schedule.dueAt(new Date(Math.min(...due.map((at) => at.getTime()))));
      }
    });
    return confirmed;
  };

/**
 * After answering a confirmation: sends the notices its write claimed and
 * records them in one write with the account's settlement. When the request
 * changed meanwhile, the settlement is done again on the latest version.
 * Until recorded, both stay owed on the request for the worker.
 */
const finishConfirmed = async (
  deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'notifier' | 'policy' | 'requests' | 'trace'>,
  confirmed: DeletionRequest,
  done: { readonly until: Date; readonly suspended: Account | null },
): Promise<void> => {
  const synced = await sendClaimedNotices(deps, confirmed, {
    until: done.until,
    account: async () => done.suspended ?? deps.accounts.find(confirmed.subjectId),
    ...(!confirmed.accountSynced && {
      also: (request: DeletionRequest) => ({ ...request, accountSynced: true }),
    }),
  });
  if (synced || confirmed.accountSynced) return;
  const latest = await deps.requests.findById(confirmed.id);
  if (latest !== null) await settleAccount(deps, latest);
};
