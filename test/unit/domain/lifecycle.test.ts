import { describe, expect, it } from 'vitest';
import type { DomainError } from '../../../src/domain/domain-error.js';
import {
  createDeletionRequest,
  etagOf,
  type DeletionRequest,
} from '../../../src/domain/deletion-request.js';
import {
  canTransition,
  deletionStates,
  isActive,
  type DeletionState,
} from '../../../src/domain/deletion-state.js';
import type { DeletionRequestId, SubjectId } from '../../../src/domain/ids.js';
import {
  approve,
  cancel,
  complete,
  confirm,
  expire,
  extendDeadline,
  needAttention,
  reject,
  repeats,
  startErasing,
  undelete,
} from '../../../src/domain/lifecycle.js';
import {
  afterFinalNotice,
  FINAL_NOTICE_MAX_ATTEMPTS,
  finalNoticeFor,
} from '../../../src/domain/notices.js';
import { defaultLegalClocks } from '../../../src/domain/legal-deadline.js';
import type { RiskReason } from '../../../src/domain/risk-policy.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const user = { kind: 'USER', id: 'subject-1' } as const;
const approver = { kind: 'USER', id: 'approver-1' } as const;
const system = { kind: 'SYSTEM', id: 'system/worker' } as const;
const ctx = (actor: typeof user | typeof approver | typeof system = user, ms = 1000) => ({
  actor,
  now: at(ms),
  traceId: 'trace-1',
  spanId: 'span-1',
});
const grace = { gracePeriodMs: 86_400_000 };

const requested = (riskReasons: RiskReason[] = []): DeletionRequest =>
  createDeletionRequest({
    id: 'req-1' as DeletionRequestId,
    subjectId: 'subject-1' as SubjectId,
    requester: user,
    reason: '',
    riskReasons,
    jurisdiction: 'GDPR',
    legalDeadline: at(30 * 86_400_000),
    confirmExpireAt: at(600_000),
    verification: { codeHash: 'h' },
    idempotencyKey: null,
    requestFingerprint: 'fp',
    now: t0,
  });

const inState = (
  state: DeletionState,
  overrides: Partial<DeletionRequest> = {},
): DeletionRequest => ({
  ...requested(),
  state,
  purgeAt: at(86_400_000),
  ...overrides,
});

const failure = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
};

describe('state machine', () => {
  it('has exactly the edges of docs/design.md §2', () => {
    const edges = deletionStates.flatMap((from) =>
      deletionStates.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`),
    );
    expect(edges.sort()).toEqual(
      [
        'REQUESTED>AWAITING_APPROVAL',
        'REQUESTED>SCHEDULED',
        'REQUESTED>CANCELLED',
        'REQUESTED>EXPIRED',
        'AWAITING_APPROVAL>SCHEDULED',
        'AWAITING_APPROVAL>REJECTED',
        'AWAITING_APPROVAL>CANCELLED',
        'SCHEDULED>RESTORED',
        'SCHEDULED>ERASING',
        'ERASING>COMPLETED',
        'ERASING>NEEDS_ATTENTION',
        'NEEDS_ATTENTION>ERASING',
      ].sort(),
    );
  });

  it('counts every non-terminal state as active', () => {
    expect(deletionStates.filter(isActive).sort()).toEqual(
      ['AWAITING_APPROVAL', 'ERASING', 'NEEDS_ATTENTION', 'REQUESTED', 'SCHEDULED'].sort(),
    );
  });
});

describe('confirm', () => {
  it('soft-deletes a low-risk request: SCHEDULED with delete and purge times, code gone', () => {
    const next = confirm(requested(), { method: 'ONE_TIME_CODE', ...grace }, ctx());
    expect(next).toMatchObject({
      state: 'SCHEDULED',
      version: 2,
      deletedAt: at(1000),
      purgeAt: at(1000 + 86_400_000),
    });
    expect(next.verification).toBeNull();
    expect(next.accountSynced).toBe(false);
    expect(next.confirmationMethod).toBe('ONE_TIME_CODE');
    expect(next.history).toEqual([
      {
        from: 'REQUESTED',
        to: 'SCHEDULED',
        actor: user,
        at: at(1000),
        note: 'CONFIRMED_WITH_CODE',
        traceId: 'trace-1',
        spanId: 'span-1',
      },
    ]);
  });

  it('routes a high-risk request to AWAITING_APPROVAL without touching the account', () => {
    const next = confirm(requested(['SUBJECT_FLAGGED']), { method: 'STEP_UP', ...grace }, ctx());
    expect(next).toMatchObject({
      state: 'AWAITING_APPROVAL',
      deletedAt: null,
      purgeAt: null,
      accountSynced: true,
    });
  });

  it.each(['AWAITING_APPROVAL', 'SCHEDULED', 'CANCELLED', 'COMPLETED'] as const)(
    'refuses to confirm a %s request',
    (state) => {
      expect(
        failure(() => confirm(inState(state), { method: 'ONE_TIME_CODE', ...grace }, ctx())),
      ).toMatchObject({
        code: 'FAILED_PRECONDITION',
        reason: 'INVALID_STATE',
      });
    },
  );
});

describe('approve and reject', () => {
  const awaiting = () =>
    confirm(requested(['SUBJECT_PRIVILEGED_ROLE']), { method: 'ONE_TIME_CODE', ...grace }, ctx());

  it('approve schedules the request and records the reviewer', () => {
    const next = approve(awaiting(), grace, ctx(approver, 5000));
    expect(next).toMatchObject({
      state: 'SCHEDULED',
      reviewer: approver,
      deletedAt: at(5000),
      accountSynced: false,
    });
  });

  it('reject ends the request and keeps the reviewer note', () => {
    expect(reject(awaiting(), 'active org', ctx(approver))).toMatchObject({
      state: 'REJECTED',
      reviewer: approver,
      reviewNote: 'active org',
    });
  });

  it('refuses the subject or the requester as reviewer (four eyes)', () => {
    expect(failure(() => approve(awaiting(), grace, ctx(user)))).toMatchObject({
      code: 'PERMISSION_DENIED',
      reason: 'SELF_APPROVAL',
    });
    expect(failure(() => reject(awaiting(), 'x', ctx(user)))).toMatchObject({
      reason: 'SELF_APPROVAL',
    });
  });

  it('refuses to approve a request that is not awaiting approval, even a REQUESTED one', () => {
    expect(failure(() => approve(requested(), grace, ctx(approver)))).toMatchObject({
      reason: 'INVALID_STATE',
    });
  });
});

describe('cancel, undelete, expire', () => {
  it.each(['REQUESTED', 'AWAITING_APPROVAL'] as const)('cancels a %s request', (state) => {
    expect(cancel(inState(state), ctx())).toMatchObject({ state: 'CANCELLED', verification: null });
  });

  it.each(['SCHEDULED', 'ERASING', 'COMPLETED'] as const)(
    'refuses to cancel a %s request',
    (state) => {
      expect(failure(() => cancel(inState(state), ctx()))).toMatchObject({
        reason: 'INVALID_STATE',
      });
    },
  );

  it('undeletes within the grace period and asks for the account to be restored', () => {
    expect(undelete(inState('SCHEDULED'), ctx())).toMatchObject({
      state: 'RESTORED',
      accountSynced: false,
    });
  });

  it('refuses undelete once the grace period is over or erasing started', () => {
    expect(failure(() => undelete(inState('SCHEDULED'), ctx(user, 86_400_000)))).toMatchObject({
      reason: 'GRACE_PERIOD_OVER',
    });
    expect(failure(() => undelete(inState('ERASING'), ctx()))).toMatchObject({
      reason: 'INVALID_STATE',
    });
  });

  it('expires only after the confirmation window', () => {
    expect(failure(() => expire(requested(), ctx(system, 599_999)))).toMatchObject({
      reason: 'NOT_EXPIRED',
    });
    expect(expire(requested(), ctx(system, 600_000))).toMatchObject({
      state: 'EXPIRED',
      verification: null,
    });
  });
});

describe('purge', () => {
  const lease = { owner: 'worker-a', until: at(86_500_000) };
  const start = { lease, steps: {}, finalNotice: null };
  const step = (status: 'DONE' | 'FAILED' | 'PENDING') => ({
    status,
    attempts: 1,
    lastErrorCode: null,
    nextAttemptAt: null,
    expectedBy: null,
    outcome: status === 'DONE' ? ({ kind: 'NOTHING_FOUND' } as const) : null,
    updatedAt: at(0),
  });

  it('starts erasing only once purgeAt has passed, under a lease', () => {
    expect(
      failure(() => startErasing(inState('SCHEDULED'), start, ctx(system, 86_399_999))),
    ).toMatchObject({
      reason: 'GRACE_PERIOD_NOT_OVER',
    });
    expect(startErasing(inState('SCHEDULED'), start, ctx(system, 86_400_000))).toMatchObject({
      state: 'ERASING',
      leaseOwner: 'worker-a',
    });
  });

  it('completes an erasing request and releases the lease', () => {
    const erasing = startErasing(inState('SCHEDULED'), start, ctx(system, 86_400_000));
    expect(complete(erasing, null, ctx(system, 86_400_001))).toMatchObject({
      state: 'COMPLETED',
      completedAt: at(86_400_001),
      leaseOwner: null,
    });
  });

  it('keeps the contact captured at the start of the purge, and completes only once it is dropped', () => {
    const contact = {
      email: 'subject@mail.test',
      phone: null,
      pushToken: null,
      preferredChannel: null,
      locale: 'de',
    };
    const erasing = startErasing(
      inState('SCHEDULED'),
      { lease, steps: {}, finalNotice: finalNoticeFor(contact) },
      ctx(system, 86_400_000),
    );
    expect(erasing.finalNotice).toEqual({ contact, attempts: 0, dueAt: null, sentAt: null });
    expect(failure(() => complete(erasing, null, ctx(system, 86_400_001)))).toMatchObject({
      reason: 'FINAL_NOTICE_PENDING',
    });
    const told = afterFinalNotice(erasing.finalNotice!, 'SENT', {
      baseMs: 1,
      capMs: 1,
      random: () => 0,
      now: at(86_400_001),
    });
    expect(
      complete({ ...erasing, finalNotice: told }, null, ctx(system, 86_400_002)),
    ).toMatchObject({ state: 'COMPLETED', finalNotice: { contact: null, sentAt: at(86_400_001) } });
  });

  it('refuses to complete while a linked service has not answered for good', () => {
    const erasing = startErasing(
      inState('SCHEDULED'),
      { lease, steps: { billing: step('DONE'), mail: step('PENDING') }, finalNotice: null },
      ctx(system, 86_400_000),
    );
    expect(failure(() => complete(erasing, null, ctx(system)))).toMatchObject({
      reason: 'PARTICIPANTS_PENDING',
    });
  });

  it('moves a purge with failed steps to NEEDS_ATTENTION, never to COMPLETED', () => {
    const erasing = startErasing(
      inState('SCHEDULED'),
      { lease, steps: { mail: step('FAILED') }, finalNotice: null },
      ctx(system, 86_400_000),
    );
    const stuck = needAttention(erasing, ['mail'], ctx(system, 86_400_100));
    expect(stuck).toMatchObject({ state: 'NEEDS_ATTENTION', leaseOwner: null });
    expect(stuck.history.at(-1)?.note).toBe('PARTICIPANTS_FAILED:mail');
  });
});

describe('final notice', () => {
  const contact = {
    email: 'subject@mail.test',
    phone: null,
    pushToken: null,
    preferredChannel: null,
    locale: null,
  };
  const due = { contact, attempts: 0, dueAt: at(0), sentAt: null };
  const policy = { baseMs: 1000, capMs: 8000, random: () => 0.5, now: at(10) };

  it('keeps only the contact fields of the account', () => {
    const account = { ...contact, subjectId: 'subject-1', roles: ['member'], flagged: false };
    expect(finalNoticeFor(account)?.contact).toEqual(contact);
  });

  it('is owed only when the account has somewhere to send it', () => {
    expect(finalNoticeFor(null)).toBeNull();
    const none = { ...contact, email: null, locale: 'en' };
    expect(finalNoticeFor(none)).toBeNull();
    expect(finalNoticeFor({ ...none, phone: '+4912345' })).not.toBeNull();
    expect(finalNoticeFor({ ...none, pushToken: 'device-1', preferredChannel: 'push' })).toEqual(
      expect.objectContaining({
        contact: { ...none, pushToken: 'device-1', preferredChannel: 'push' },
      }),
    );
  });

  it('deletes the contact once sent', () => {
    expect(afterFinalNotice(due, 'SENT', policy)).toEqual({
      contact: null,
      attempts: 1,
      dueAt: null,
      sentAt: at(10),
    });
  });

  it('retries a channel that is down with back-off, keeping the contact until the last attempt', () => {
    expect(afterFinalNotice(due, 'RETRY', policy)).toEqual({
      ...due,
      attempts: 1,
      dueAt: at(510),
    });
    const last = { ...due, attempts: FINAL_NOTICE_MAX_ATTEMPTS - 1 };
    expect(afterFinalNotice(last, 'RETRY', policy)).toEqual({
      contact: null,
      attempts: FINAL_NOTICE_MAX_ATTEMPTS,
      dueAt: null,
      sentAt: null,
    });
  });

  it('deletes the contact unsent when the notice cannot be delivered at all', () => {
    expect(afterFinalNotice(due, 'UNDELIVERABLE', policy)).toMatchObject({
      contact: null,
      dueAt: null,
      sentAt: null,
    });
  });
});

describe('repeats: a retry of a change its caller made already', () => {
  it('names the caller’s own change by verb, not another caller’s nor another verb’s', () => {
    const awaiting = confirm(
      requested(['SUBJECT_PRIVILEGED_ROLE']),
      { method: 'ONE_TIME_CODE', ...grace },
      ctx(),
    );
    const approved = approve(awaiting, grace, ctx(approver, 5000));

    expect(repeats(requested(), user, 'confirm')).toBe(false);
    expect(repeats(awaiting, user, 'confirm')).toBe(true);
    expect(repeats(approved, approver, 'approve')).toBe(true);
    expect(repeats(approved, { kind: 'USER', id: 'approver-2' }, 'approve')).toBe(false);
    expect(repeats(approved, { kind: 'SERVICE', id: 'approver-1' }, 'approve')).toBe(false);
    expect(repeats(approved, approver, 'reject')).toBe(false);
    expect(repeats(approved, user, 'approve')).toBe(false);
    expect(repeats(cancel(requested(), ctx()), user, 'cancel')).toBe(true);
    expect(repeats(undelete(inState('SCHEDULED'), ctx()), user, 'undelete')).toBe(true);
    expect(repeats(reject(awaiting, 'no', ctx(approver)), approver, 'reject')).toBe(true);
  });
});

describe('etag', () => {
  it('changes with every version', () => {
    const first = requested();
    expect(etagOf(first)).not.toBe(etagOf(cancel(first, ctx())));
  });
});

describe('extendDeadline', () => {
  const admin = approver;
  const extension = { reason: 'needs a manual export', clocks: defaultLegalClocks };

  it('moves an open request’s deadline once, records why, and owes the subject a notice', () => {
    const before = inState('SCHEDULED');
    const extended = extendDeadline(before, extension, { ...ctx(), actor: admin });
    // 31 March + 2 calendar months (the deadline is t0 + 30 days).
    expect(extended.legalDeadline).toEqual(new Date('2026-05-31T10:00:00Z'));
    expect(extended.deadlineExtension).toEqual({
      previousDeadline: before.legalDeadline,
      reason: 'needs a manual export',
      actor: admin,
      at: at(1000),
      traceId: 'trace-1',
    });
    expect(extended.version).toBe(before.version + 1);
    expect(extended.history).toEqual(before.history);
    expect(extended.outbox.at(-1)).toMatchObject({
      key: 'DEADLINE_EXTENDED@0',
      notice: { kind: 'DEADLINE_EXTENDED', deadline: extended.legalDeadline },
    });
    expect(etagOf(extended)).not.toBe(etagOf(before));
    expect(failure(() => extendDeadline(extended, extension, ctx(admin))).reason).toBe(
      'ALREADY_EXTENDED',
    );
  });

  it('adds 45 days under CCPA, and refuses a closed request', () => {
    const ccpa = inState('ERASING', { jurisdiction: 'CCPA' });
    expect(extendDeadline(ccpa, extension, ctx(admin)).legalDeadline).toEqual(
      new Date(ccpa.legalDeadline.getTime() + 45 * 86_400_000),
    );
    // Too late: the law asks for it within the first period.
    expect(
      failure(() => extendDeadline(ccpa, extension, { ...ctx(admin), now: ccpa.legalDeadline }))
        .reason,
    ).toBe('DEADLINE_PASSED');
    // Not by the requester (here the subject).
    expect(failure(() => extendDeadline(ccpa, extension, ctx(user))).reason).toBe('SELF_EXTENSION');
    for (const state of ['COMPLETED', 'CANCELLED', 'RESTORED'] as const)
      expect(failure(() => extendDeadline(inState(state), extension, ctx(admin))).reason).toBe(
        'INVALID_STATE',
      );
  });
});
