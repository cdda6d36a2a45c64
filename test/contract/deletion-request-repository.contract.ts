import { beforeEach, describe, expect, it } from 'vitest';
import type {
  CountQuery,
  DeletionRequestRepository,
  ListQuery,
} from '../../src/app/ports/deletion-request-repository.js';
import type { SubjectKeyStore } from '../../src/app/ports/subject-keys.js';
import type { DeletionRequest, StateChange } from '../../src/domain/deletion-request.js';
import type { DeletionState } from '../../src/domain/deletion-state.js';
import { DomainError } from '../../src/domain/domain-error.js';
import type { ParticipantStep } from '../../src/domain/erasure-steps.js';
import type { OwnerAlert } from '../../src/domain/owner-alerts.js';
import {
  aDeletionRequest,
  aRequestId,
  aSubjectId,
  BUILT_AT,
} from '../fixtures/deletion-request-builder.js';

/** What the contract runs against: a repository, and the key store its personal data is sealed with. */
export interface RepositorySubject {
  readonly repo: DeletionRequestRepository;
  /** The subjects' data keys the repository seals personal data with (destroying one shreds it). */
  readonly keys: SubjectKeyStore;
}

/** A minute in milliseconds. */
export const MINUTE = 60_000;
/** A day in milliseconds. */
export const DAY = 24 * 60 * MINUTE;

/** `offsetMs` after the builder's moment. */
export const at = (offsetMs: number): Date => new Date(BUILT_AT.getTime() + offsetMs);

/** The ids of requests, sorted. */
export const ids = (requests: readonly DeletionRequest[]): string[] =>
  requests.map((r) => r.id).sort();

/** What a promise was rejected with (an Error saying so when it was not). */
export const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );

/** A list query: every filter off, 50 at most, unless given. */
export const query = (q: Partial<ListQuery>): ListQuery => ({
  state: undefined,
  subjectId: undefined,
  jurisdiction: undefined,
  linkedService: undefined,
  linkedServiceStep: undefined,
  deadlineBefore: undefined,
  limit: 50,
  after: undefined,
  ...q,
});

/** The ids of every page of `q` (at most four), each after the last one's sort time and id. */
const pagesOf = async (
  repo: DeletionRequestRepository,
  q: ListQuery,
  sortTime: (last: DeletionRequest) => Date,
): Promise<string[][]> => {
  const pages: string[][] = [];
  let after: ListQuery['after'];
  for (let round = 0; round < 4; round += 1) {
    const page = await repo.list({ ...q, after });
    const last = page.at(-1);
    if (last === undefined) break;
    pages.push(page.map((r) => r.id));
    after = { at: sortTime(last), id: last.id };
  }
  return pages;
};

/** A change of state by the system at `when`. */
const change = (from: DeletionState, to: DeletionState, when: Date): StateChange => ({
  from,
  to,
  actor: { kind: 'SYSTEM', id: 'system/test' },
  at: when,
  note: '',
  traceId: '',
  spanId: '',
});

/** A confirmed request waiting for its purge (version 2). */
export const scheduled = (overrides: Partial<DeletionRequest> = {}): DeletionRequest =>
  aDeletionRequest({
    state: 'SCHEDULED',
    version: 2,
    confirmationMethod: 'ONE_TIME_CODE',
    verification: null,
    deletedAt: at(MINUTE),
    purgeAt: at(30 * DAY),
    ...overrides,
  });

/** A request with every optional field set, personal data included. */
export const everyFieldSet = aDeletionRequest({
  state: 'COMPLETED',
  version: 7,
  requester: { kind: 'SERVICE', id: 'support-console' },
  riskReasons: ['REQUESTED_BY_OTHER', 'SUBJECT_FLAGGED'],
  jurisdiction: 'CCPA',
  updatedAt: at(9 * MINUTE + 123),
  confirmationMethod: 'STEP_UP',
  verification: { codeHash: 'hash' },
  deletedAt: at(MINUTE + 1),
  purgeAt: at(2 * MINUTE + 2),
  completedAt: at(3 * MINUTE + 3),
  localErasure: { accounts: 1, sessions: 4, apiTokens: 2, at: at(3 * MINUTE + 2) },
  finalNotice: {
    contact: {
      email: 'subject@mail.test',
      phone: '+49301234567',
      pushToken: 'device-7',
      preferredChannel: 'sms',
      locale: 'de-DE',
    },
    attempts: 2,
    dueAt: at(4 * MINUTE),
    sentAt: null,
  },
  outbox: [
    {
      key: 'SCHEDULED@1',
      notice: { kind: 'SCHEDULED', deletionRequestId: aRequestId(), purgeAt: at(2 * MINUTE + 2) },
      attempts: 3,
      owedAt: at(MINUTE + 1),
      dueAt: at(5 * MINUTE),
    },
    {
      key: 'DEADLINE_EXTENDED@2',
      notice: {
        kind: 'DEADLINE_EXTENDED',
        deletionRequestId: aRequestId(),
        deadline: at(90 * DAY),
        reason: 'backups to restore',
      },
      attempts: 0,
      owedAt: at(6 * MINUTE),
      dueAt: at(6 * MINUTE),
    },
  ],
  sentNotices: [
    {
      key: 'RECEIPT@0',
      kind: 'RECEIPT',
      outcome: 'SENT',
      channel: 'sms',
      messageId: 'SM0001',
      at: at(2),
    },
    {
      key: 'AWAITING_APPROVAL@1',
      kind: 'AWAITING_APPROVAL',
      outcome: 'UNDELIVERABLE',
      channel: null,
      messageId: null,
      at: at(3),
    },
  ],
  reviewer: { kind: 'USER', id: 'reviewer-1' },
  reviewNote: 'checked the ticket',
  deadlineExtension: {
    previousDeadline: at(45 * DAY),
    reason: 'backups to restore',
    actor: { kind: 'USER', id: 'admin-1' },
    at: at(6 * MINUTE),
    traceId: 'c'.repeat(32),
  },
  retention: { sweptAt: at(10 * MINUTE), reportSha256: 'ab'.repeat(32), snapshotsPruned: true },
  accountSynced: false,
  createdIn: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) },
  leaseOwner: 'worker-1',
  leaseUntil: at(4 * MINUTE + 4),
  idempotencyKey: 'SERVICE:support-console:req-1',
  history: [
    {
      from: 'REQUESTED',
      to: 'AWAITING_APPROVAL',
      actor: { kind: 'USER', id: 'u-1' },
      at: at(5),
      note: '',
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
    },
    {
      from: 'AWAITING_APPROVAL',
      to: 'SCHEDULED',
      actor: { kind: 'SYSTEM', id: 'system/purge-worker' },
      at: at(6),
      note: 'ok',
      traceId: '',
      spanId: '',
    },
  ],
});

/** A request being erased with every field set (the subject's personal data included), of a fresh subject. */
export const erasing = (overrides: Partial<DeletionRequest> = {}): DeletionRequest =>
  aDeletionRequest({
    ...everyFieldSet,
    id: aRequestId(),
    subjectId: aSubjectId(),
    state: 'ERASING',
    idempotencyKey: null,
    report: null,
    ...overrides,
  });

const pending: ParticipantStep = {
  status: 'PENDING',
  attempts: 0,
  lastErrorCode: null,
  nextAttemptAt: null,
  expectedBy: null,
  outcome: null,
  updatedAt: at(0),
};

const done: ParticipantStep = {
  ...pending,
  status: 'DONE',
  attempts: 1,
  outcome: { kind: 'NOTHING_FOUND' },
};

/**
 * The contract of DeletionRequestRepository: what the use cases rely on, for
 * any adapter. `makeSubject` gives an empty repository for each test.
 */
/**
 * `request` as read back once its subject's key is gone: every sealed value
 * blank (the reason, the review note, the extension's reason and an owed
 * extension notice's), the final notice's contact as given.
 */
const unsealable = (
  request: DeletionRequest,
  contact: NonNullable<DeletionRequest['finalNotice']>['contact'],
): DeletionRequest => ({
  ...request,
  reason: '',
  reviewNote: null,
  deadlineExtension: request.deadlineExtension && { ...request.deadlineExtension, reason: '' },
  outbox: request.outbox.map((owed) =>
    owed.notice.kind === 'DEADLINE_EXTENDED'
      ? { ...owed, notice: { ...owed.notice, reason: '' } }
      : owed,
  ),
  finalNotice: request.finalNotice && { ...request.finalNotice, contact },
});

export const describeDeletionRequestRepositoryContract = (
  name: string,
  makeSubject: () => Promise<RepositorySubject>,
): void => {
  describe(`DeletionRequestRepository contract: ${name}`, () => {
    let repo: DeletionRequestRepository;
    let keys: SubjectKeyStore;
    beforeEach(async () => {
      ({ repo, keys } = await makeSubject());
    });

    describe('storing and finding', () => {
      it.each([
        ['a fresh request', () => aDeletionRequest()],
        ['a request with every field set', () => everyFieldSet],
      ])('reads back %s exactly as inserted', async (_, build) => {
        const request = build();
        expect(await repo.insert(request)).toEqual({ kind: 'INSERTED' });
        expect(await repo.findById(request.id)).toEqual(request);
      });

      it('finds a request by its idempotency key and answers null for unknown keys and ids', async () => {
        await repo.insert(everyFieldSet);
        expect(await repo.findByIdempotencyKey('SERVICE:support-console:req-1')).toEqual(
          everyFieldSet,
        );
        expect(await repo.findByIdempotencyKey('SERVICE:support-console:other')).toBeNull();
        expect(await repo.findById(aRequestId())).toBeNull();
      });

      it('finds a request scoped to a subject only when it is that subject’s', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        expect(await repo.findById(request.id, { subjectId: request.subjectId })).toEqual(request);
        expect(await repo.findById(request.id, { subjectId: aSubjectId() })).toBeNull();
      });
    });

    describe('one active request per subject, one per idempotency key', () => {
      it('refuses a second active request for a subject until the first is terminal', async () => {
        const first = aDeletionRequest();
        const second = aDeletionRequest({ subjectId: first.subjectId });
        expect(await repo.insert(first)).toEqual({ kind: 'INSERTED' });
        expect(await repo.insert(second)).toEqual({ kind: 'DUPLICATE_ACTIVE_SUBJECT' });
        expect((await repo.findActiveBySubject(first.subjectId))?.id).toBe(first.id);

        expect(await repo.update({ ...first, state: 'CANCELLED', version: 2 }, first)).toBe(true);
        expect(await repo.findActiveBySubject(first.subjectId)).toBeNull();
        expect(await repo.insert(second)).toEqual({ kind: 'INSERTED' });
        expect((await repo.findActiveBySubject(first.subjectId))?.id).toBe(second.id);
      });

      it('lets exactly one of ten concurrent requests for a subject in', async () => {
        const subjectId = aSubjectId();
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () => repo.insert(aDeletionRequest({ subjectId }))),
        );
        expect(outcomes.filter((o) => o.kind === 'INSERTED')).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === 'DUPLICATE_ACTIVE_SUBJECT')).toHaveLength(9);
      });

      it('refuses a reused idempotency key, and names it even when the subject is taken too', async () => {
        const key = 'USER:u-1:req-1';
        const first = aDeletionRequest({ idempotencyKey: key });
        await repo.insert(first);
        expect(await repo.insert(aDeletionRequest({ idempotencyKey: key }))).toEqual({
          kind: 'DUPLICATE_IDEMPOTENCY_KEY',
        });
        expect(
          await repo.insert(aDeletionRequest({ idempotencyKey: key, subjectId: first.subjectId })),
        ).toEqual({ kind: 'DUPLICATE_IDEMPOTENCY_KEY' });
      });

      it('stores any number of requests without an idempotency key', async () => {
        expect(await repo.insert(aDeletionRequest({ idempotencyKey: null }))).toEqual({
          kind: 'INSERTED',
        });
        expect(await repo.insert(aDeletionRequest({ idempotencyKey: null }))).toEqual({
          kind: 'INSERTED',
        });
      });

      it('aborts an update that would give a subject a second active request', async () => {
        const active = aDeletionRequest();
        const closed = aDeletionRequest({ subjectId: active.subjectId, state: 'CANCELLED' });
        await repo.insert(active);
        expect(await repo.insert(closed)).toEqual({ kind: 'INSERTED' });
        const error = await rejection(
          repo.update({ ...closed, state: 'REQUESTED', version: 2 }, closed),
        );
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ code: 'ABORTED' });
        expect((await repo.findActiveBySubject(active.subjectId))?.id).toBe(active.id);
      });
    });

    describe('changes, guarded by the version', () => {
      it('updates only from the expected version', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const confirmed = {
          ...scheduled({ id: request.id, subjectId: request.subjectId }),
          updatedAt: at(MINUTE),
        };
        expect(await repo.update(confirmed, request)).toBe(true);
        expect(await repo.update({ ...request, state: 'CANCELLED', version: 2 }, request)).toBe(
          false,
        );
        expect(await repo.findById(request.id)).toEqual(confirmed);
      });

      it('lets exactly one of twenty concurrent updates from the same version win', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            repo.update({ ...request, version: 2, reason: `writer ${String(i)}` }, request),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await repo.findById(request.id))?.reason).toBe(
          `writer ${String(results.indexOf(true))}`,
        );
      });

      it('refuses a change that does not move exactly one version', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const error = await rejection(repo.update({ ...request, version: 3 }, request));
        expect(error).toBeInstanceOf(DomainError);
        expect(error).toMatchObject({ code: 'INTERNAL' });
        expect(await repo.findById(request.id)).toEqual(request);
      });

      it('does not report an update of a request that does not exist as done', async () => {
        const ghost = aDeletionRequest();
        expect(await repo.update({ ...ghost, version: 2 }, ghost)).toBe(false);
        expect(await repo.findById(ghost.id)).toBeNull();
      });

      it('reads back every field changed at once, and personal data changed again', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const next = {
          ...everyFieldSet,
          id: request.id,
          subjectId: request.subjectId,
          version: 2,
          outbox: [],
          idempotencyKey: null,
        };
        expect(await repo.update(next, request)).toBe(true);
        expect(await repo.findById(request.id)).toEqual(next);
        const changed = { ...next, version: 3, reason: 'changed my mind about the reason' };
        expect(await repo.update(changed, next)).toBe(true);
        expect(await repo.findById(request.id)).toEqual(changed);
      });

      it('adds the entries of lists that grew and sets one linked service’s step alone', async () => {
        const request = aDeletionRequest({
          state: 'ERASING',
          participants: { billing: pending, crm: pending },
        });
        await repo.insert(request);
        const next: DeletionRequest = {
          ...request,
          version: 2,
          updatedAt: at(MINUTE),
          participants: {
            ...request.participants,
            billing: {
              ...pending,
              status: 'DONE',
              attempts: 1,
              outcome: { kind: 'NOTHING_FOUND' },
              updatedAt: at(MINUTE),
            },
          },
          history: [...request.history, change('ERASING', 'ERASING', at(MINUTE))],
        };
        expect(await repo.update(next, request)).toBe(true);
        expect(await repo.findById(request.id)).toEqual(next);
      });

      it('keeps what is stored in the fields a change leaves as its `previous` had them', async () => {
        const request = aDeletionRequest({
          state: 'CANCELLED',
          history: [change('REQUESTED', 'CANCELLED', at(MINUTE))],
        });
        await repo.insert(request);
        // A decorator records on version 2 that the audit log holds the change...
        const marked = { changes: 1, notices: 0, answers: [], alerts: [] };
        expect(await repo.update({ ...request, version: 2, audited: marked }, request)).toBe(true);
        // ...which the use case's own copy of version 2 does not show.
        const mine = { ...request, version: 2 };
        const next = { ...mine, version: 3, reviewNote: 'closed on request' };
        expect(await repo.update(next, mine)).toBe(true);

        expect(await repo.findById(request.id)).toEqual({ ...next, audited: marked });
      });

      it('removes a request only at the expected version', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        expect(await repo.remove(request.id, 2)).toBe(false);
        expect(await repo.remove(request.id, 1)).toBe(true);
        expect(await repo.findById(request.id)).toBeNull();
        expect(await repo.remove(request.id, 1)).toBe(false);
      });

      it('still refuses a writer of an old version after the older snapshots are pruned', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const cancelled = { ...request, state: 'CANCELLED' as const, version: 2 };
        const swept = { ...cancelled, reason: '', version: 3 };
        expect(await repo.update(cancelled, request)).toBe(true);
        expect(await repo.update(swept, cancelled)).toBe(true);
        await repo.pruneSnapshots(request.id, 3);

        expect(await repo.update({ ...request, state: 'EXPIRED', version: 2 }, request)).toBe(
          false,
        );
        expect(await repo.findById(request.id)).toEqual(swept);
      });
    });

    describe('confirmation attempts', () => {
      it('counts exactly the allowed attempts under 50 concurrent calls, leaving the version', async () => {
        const request = aDeletionRequest();
        await repo.insert(request);
        const results = await Promise.all(
          Array.from({ length: 50 }, () => repo.reserveConfirmationAttempt(request.id, 5)),
        );
        expect(results.filter(Boolean)).toHaveLength(5);
        expect(await repo.reserveConfirmationAttempt(request.id, 5)).toBe(false);
        expect((await repo.findById(request.id))?.version).toBe(1);
        expect(await repo.update({ ...request, state: 'CANCELLED', version: 2 }, request)).toBe(
          true,
        );
      });

      it('counts attempts per request', async () => {
        const first = aDeletionRequest();
        const second = aDeletionRequest();
        await repo.insert(first);
        await repo.insert(second);
        for (let i = 0; i < 5; i += 1)
          expect(await repo.reserveConfirmationAttempt(first.id, 5)).toBe(true);
        expect(await repo.reserveConfirmationAttempt(first.id, 5)).toBe(false);
        expect(await repo.reserveConfirmationAttempt(second.id, 5)).toBe(true);
      });
    });

    describe('list', () => {
      it('pages newest first through equal creation times without duplicates or gaps', async () => {
        const offsets = [0, 0, 0, MINUTE, MINUTE, 2 * MINUTE, 3 * MINUTE];
        const requests = offsets.map((offset) =>
          aDeletionRequest({ state: 'CANCELLED', createdAt: at(offset) }),
        );
        await Promise.all(requests.map((r) => repo.insert(r)));
        const expected = [...requests]
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
          .map((r) => r.id);

        const pages = await pagesOf(repo, query({ limit: 3 }), (last) => last.createdAt);
        expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual(expected);
      });

      it('filters by state and by subject, and answers nothing for a limit of 0', async () => {
        const older = aDeletionRequest({ state: 'CANCELLED', createdAt: at(0) });
        const newer = aDeletionRequest({ subjectId: older.subjectId, createdAt: at(MINUTE) });
        const other = aDeletionRequest({ state: 'CANCELLED', createdAt: at(2 * MINUTE) });
        await Promise.all([older, newer, other].map((r) => repo.insert(r)));

        const listed = async (q: Partial<ListQuery>) =>
          (await repo.list(query(q))).map((r) => r.id);
        expect(await listed({ subjectId: older.subjectId })).toEqual([newer.id, older.id]);
        expect(await listed({ state: 'CANCELLED' })).toEqual([other.id, older.id]);
        expect(await listed({ state: 'CANCELLED', subjectId: older.subjectId })).toEqual([
          older.id,
        ]);
        expect(await listed({ limit: 0 })).toEqual([]);
      });

      it('filters by jurisdiction and by a linked service whose step is not finished', async () => {
        const gdpr = scheduled({ createdAt: at(0) });
        const ccpa = scheduled({ jurisdiction: 'CCPA', createdAt: at(MINUTE) });
        const waiting = erasing({
          createdAt: at(2 * MINUTE),
          participants: { crm: { ...pending, status: 'RETRYING' }, billing: done },
        });
        const failed = erasing({
          state: 'NEEDS_ATTENTION',
          createdAt: at(3 * MINUTE),
          participants: { crm: { ...pending, status: 'FAILED' } },
        });
        const answered = erasing({ createdAt: at(4 * MINUTE), participants: { crm: done } });
        await Promise.all([gdpr, ccpa, waiting, failed, answered].map((r) => repo.insert(r)));

        const listed = async (q: Partial<ListQuery>) =>
          (await repo.list(query(q))).map((r) => r.id);
        expect(await listed({ jurisdiction: 'GDPR' })).toEqual([gdpr.id]);
        expect(await listed({ jurisdiction: 'CCPA' })).toEqual([
          answered.id,
          failed.id,
          waiting.id,
          ccpa.id,
        ]);
        expect(await listed({ linkedService: 'crm' })).toEqual([failed.id, waiting.id]);
        expect(await listed({ linkedService: 'billing' })).toEqual([]);
        expect(await listed({ linkedService: 'crm', state: 'ERASING' })).toEqual([waiting.id]);
        expect(await listed({ linkedService: 'search' })).toEqual([]);
      });

      it('narrows a linked service to its waiting or its failed steps, as its health counts them', async () => {
        const accepted = erasing({
          createdAt: at(0),
          participants: { crm: { ...pending, status: 'ACCEPTED' }, billing: pending },
        });
        // Stuck because crm failed: its billing step still waits.
        const stuck = erasing({
          state: 'NEEDS_ATTENTION',
          createdAt: at(MINUTE),
          participants: { crm: { ...pending, status: 'FAILED' }, billing: pending },
        });
        const retrying = erasing({
          createdAt: at(2 * MINUTE),
          participants: { crm: { ...pending, status: 'RETRYING' }, billing: done },
        });
        // Closed with steps never finished: nothing waits on them any more.
        const closed = erasing({
          state: 'CANCELLED',
          createdAt: at(3 * MINUTE),
          participants: { crm: { ...pending, status: 'FAILED' }, billing: pending },
        });
        await Promise.all([accepted, stuck, retrying, closed].map((r) => repo.insert(r)));

        const listed = async (q: Partial<ListQuery>) =>
          (await repo.list(query(q))).map((r) => r.id);
        const step = (linkedService: string, linkedServiceStep: 'WAITING' | 'FAILED') => ({
          linkedService,
          linkedServiceStep,
        });
        expect(await listed(step('crm', 'WAITING'))).toEqual([retrying.id, accepted.id]);
        expect(await listed(step('crm', 'FAILED'))).toEqual([closed.id, stuck.id]);
        expect(await listed({ ...step('crm', 'FAILED'), state: 'NEEDS_ATTENTION' })).toEqual([
          stuck.id,
        ]);
        expect(await listed(step('billing', 'WAITING'))).toEqual([stuck.id, accepted.id]);
        expect(await listed({ ...step('billing', 'FAILED'), state: 'NEEDS_ATTENTION' })).toEqual(
          [],
        );
        expect(await listed({ ...step('billing', 'WAITING'), state: 'CANCELLED' })).toEqual([]);
        expect(
          await listed({ ...step('billing', 'WAITING'), deadlineBefore: at(365 * DAY) }),
        ).toHaveLength(2);
        expect(await repo.countByLinkedService(['crm', 'billing'])).toEqual({
          crm: { waiting: 2, needingAttention: 1 },
          billing: { waiting: 2, needingAttention: 0 },
        });

        const counted = async (q: Pick<CountQuery, 'linkedService' | 'linkedServiceStep'>) =>
          (await repo.count({ jurisdiction: undefined, now: at(0), dueBefore: at(DAY), ...q }))
            .byState;
        expect(await counted(step('crm', 'WAITING'))).toEqual({ ERASING: 2 });
        expect(await counted(step('crm', 'FAILED'))).toEqual({ NEEDS_ATTENTION: 1, CANCELLED: 1 });
        expect(await counted(step('billing', 'WAITING'))).toEqual({
          ERASING: 1,
          NEEDS_ATTENTION: 1,
        });
      });

      it('lists open requests due before a time, the soonest deadline first, a page at a time', async () => {
        const deadlines = [3 * DAY, DAY, DAY, DAY, 2 * DAY];
        const open = deadlines.map((offset) => scheduled({ legalDeadline: at(offset) }));
        const later = scheduled({ legalDeadline: at(5 * DAY) });
        const closed = scheduled({ state: 'COMPLETED', legalDeadline: at(0) });
        await Promise.all([...open, later, closed].map((r) => repo.insert(r)));
        const expected = [...open]
          .sort(
            (a, b) =>
              a.legalDeadline.getTime() - b.legalDeadline.getTime() || (a.id < b.id ? -1 : 1),
          )
          .map((r) => r.id);

        const pages = await pagesOf(
          repo,
          query({ deadlineBefore: at(4 * DAY), limit: 2 }),
          (last) => last.legalDeadline,
        );
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual(expected);
        expect(
          (await repo.list(query({ deadlineBefore: at(4 * DAY), state: 'COMPLETED' }))).length,
        ).toBe(0);
      });
    });

    describe('counts', () => {
      it('counts requests by state under the filters, and open ones past or near their deadline', async () => {
        const requests = [
          aDeletionRequest({ legalDeadline: at(DAY - 1) }),
          scheduled({ legalDeadline: at(DAY + MINUTE) }),
          scheduled({ jurisdiction: 'CCPA', legalDeadline: at(3 * DAY) }),
          scheduled({ state: 'COMPLETED', legalDeadline: at(0) }),
          aDeletionRequest({ state: 'EXPIRED', legalDeadline: at(0) }),
          erasing({ legalDeadline: at(0), participants: { crm: pending } }),
          erasing({
            state: 'NEEDS_ATTENTION',
            legalDeadline: at(DAY + 1),
            participants: { crm: { ...pending, status: 'FAILED' }, billing: done },
          }),
        ];
        await Promise.all(requests.map((r) => repo.insert(r)));
        const count = (filter: Partial<CountQuery>) =>
          repo.count({
            jurisdiction: undefined,
            linkedService: undefined,
            linkedServiceStep: undefined,
            now: at(DAY),
            dueBefore: at(2 * DAY),
            ...filter,
          });

        expect(await count({})).toEqual({
          byState: {
            REQUESTED: 1,
            SCHEDULED: 2,
            COMPLETED: 1,
            EXPIRED: 1,
            ERASING: 1,
            NEEDS_ATTENTION: 1,
          },
          pastDeadline: 2,
          dueSoon: 2,
        });
        expect(await count({ jurisdiction: 'GDPR' })).toEqual({
          byState: { REQUESTED: 1, SCHEDULED: 1, COMPLETED: 1, EXPIRED: 1 },
          pastDeadline: 1,
          dueSoon: 1,
        });
        expect(await count({ linkedService: 'crm' })).toEqual({
          byState: { ERASING: 1, NEEDS_ATTENTION: 1 },
          pastDeadline: 1,
          dueSoon: 1,
        });
        expect(await count({ linkedService: 'billing', jurisdiction: 'CCPA' })).toEqual({
          byState: {},
          pastDeadline: 0,
          dueSoon: 0,
        });
      });

      it('counts per linked service the requests waiting on it and those failed there', async () => {
        const requests = [
          erasing({ participants: { crm: pending, billing: { ...pending, status: 'ACCEPTED' } } }),
          erasing({ participants: { crm: { ...pending, status: 'RETRYING' }, billing: done } }),
          erasing({
            state: 'NEEDS_ATTENTION',
            participants: { crm: { ...pending, status: 'FAILED' }, billing: pending },
          }),
          erasing({ state: 'COMPLETED', participants: { crm: done, billing: done } }),
        ];
        await Promise.all(requests.map((r) => repo.insert(r)));

        expect(await repo.countByLinkedService(['crm', 'billing', 'search'])).toEqual({
          crm: { waiting: 2, needingAttention: 1 },
          billing: { waiting: 2, needingAttention: 0 },
          search: { waiting: 0, needingAttention: 0 },
        });
        expect(await repo.countByLinkedService([])).toEqual({});
      });
    });

    describe('background queries', () => {
      const now = at(DAY);

      it('finds scheduled requests past their purge time and erasures whose lease expired', async () => {
        const due = scheduled({ purgeAt: at(DAY - MINUTE) });
        const dueNow = scheduled({ purgeAt: now });
        const notYet = scheduled({ purgeAt: at(DAY + MINUTE) });
        const abandoned = scheduled({
          state: 'ERASING',
          leaseOwner: 'w-1',
          leaseUntil: at(DAY - 1),
          purgeAt: at(0),
        });
        const held = scheduled({
          state: 'ERASING',
          leaseOwner: 'w-2',
          leaseUntil: at(DAY + MINUTE),
          purgeAt: at(0),
        });
        const restored = scheduled({ state: 'RESTORED', purgeAt: at(0) });
        await Promise.all(
          [due, dueNow, notYet, abandoned, held, restored].map((r) => repo.insert(r)),
        );

        expect(ids(await repo.findDueForErasure(now, 10))).toEqual(ids([due, dueNow, abandoned]));
        expect(await repo.findDueForErasure(now, 2)).toHaveLength(2);
      });

      it('finds requests owing Suspend, Restore or notices that are due, least recently changed first', async () => {
        const owed = (dueAt: Date) =>
          ({ phase: 'suspend', pending: ['crm'], attempts: 0, dueAt }) as const;
        const outbox = (dueAt: Date): DeletionRequest['outbox'] => [
          {
            key: 'RECEIPT@0',
            notice: { kind: 'RECEIPT', deletionRequestId: aRequestId(), deadline: at(30 * DAY) },
            attempts: 1,
            owedAt: at(0),
            dueAt,
          },
        ];
        const suspend = scheduled({ notices: owed(at(0)), outbox: [], updatedAt: at(3 * MINUTE) });
        const notice = scheduled({ outbox: outbox(at(DAY - 1)), updatedAt: at(MINUTE) });
        const later = scheduled({ notices: owed(at(DAY + 1)), outbox: outbox(at(DAY + 1)) });
        const none = scheduled({ outbox: [] });
        await Promise.all([suspend, notice, later, none].map((r) => repo.insert(r)));

        expect((await repo.findNoticesDue(now, 10)).map((r) => r.id)).toEqual([
          notice.id,
          suspend.id,
        ]);
        expect(await repo.findNoticesDue(now, 1)).toHaveLength(1);
      });

      it('finds requests owing an alert to a linked service owner that is due, and keeps it whole', async () => {
        const alert = (dueAt: Date | null, status: 'OWED' | 'SENT'): OwnerAlert => ({
          participant: 'billing',
          team: 'payments',
          reason: 'UNAVAILABLE',
          traceId: 'trace-1',
          owedAt: at(0),
          status,
          attempts: status === 'SENT' ? 1 : 0,
          dueAt,
          settledAt: status === 'SENT' ? at(MINUTE) : null,
        });
        const stuck = { state: 'NEEDS_ATTENTION', outbox: [] } as const;
        const owing = scheduled({ ...stuck, ownerAlerts: [alert(at(DAY - 1), 'OWED')] });
        const later = scheduled({ ...stuck, ownerAlerts: [alert(at(DAY + 1), 'OWED')] });
        const sent = scheduled({ ...stuck, ownerAlerts: [alert(null, 'SENT')] });
        await Promise.all([owing, later, sent].map((r) => repo.insert(r)));

        expect(ids(await repo.findNoticesDue(now, 10))).toEqual([owing.id]);
        expect((await repo.findById(sent.id))?.ownerAlerts).toEqual(sent.ownerAlerts);
        const settled = {
          ...owing,
          ownerAlerts: [alert(null, 'SENT')],
          version: owing.version + 1,
        };
        expect(await repo.update(settled, owing)).toBe(true);
        expect((await repo.findById(owing.id))?.ownerAlerts).toEqual(settled.ownerAlerts);
        expect(await repo.findNoticesDue(now, 10)).toEqual([]);
      });

      it('finds requests still REQUESTED past their confirmation window', async () => {
        const expired = aDeletionRequest({ confirmExpireAt: at(DAY - 1) });
        const waiting = aDeletionRequest({ confirmExpireAt: at(DAY + 1) });
        const awaiting = aDeletionRequest({ state: 'AWAITING_APPROVAL', confirmExpireAt: at(0) });
        await Promise.all([expired, waiting, awaiting].map((r) => repo.insert(r)));

        expect(ids(await repo.findExpired(now, 10))).toEqual([expired.id]);
      });

      it('finds unsynced requests last changed before the cut-off', async () => {
        const stale = scheduled({ accountSynced: false, updatedAt: at(DAY - MINUTE) });
        const fresh = scheduled({ accountSynced: false, updatedAt: at(DAY + MINUTE) });
        const synced = scheduled({ accountSynced: true, updatedAt: at(0) });
        await Promise.all([stale, fresh, synced].map((r) => repo.insert(r)));

        expect(ids(await repo.findUnsynced(now, 10))).toEqual([stale.id]);
      });

      it('finds open requests whose legal deadline is before the cut-off, the nearest first', async () => {
        const past = scheduled({ state: 'NEEDS_ATTENTION', legalDeadline: at(0) });
        const near = aDeletionRequest({ legalDeadline: at(DAY - 1) });
        const later = scheduled({ legalDeadline: at(2 * DAY) });
        const done = scheduled({ state: 'COMPLETED', legalDeadline: at(0) });
        await Promise.all([near, later, done, past].map((r) => repo.insert(r)));

        expect((await repo.findNearDeadline(now, 10)).map((r) => r.id)).toEqual([past.id, near.id]);
      });

      it('counts open requests by state, and those whose legal deadline is before the cut-off', async () => {
        const requests = [
          aDeletionRequest({ legalDeadline: at(DAY - 1) }),
          scheduled({ legalDeadline: at(DAY + MINUTE) }),
          scheduled({ legalDeadline: at(2 * DAY) }),
          scheduled({ state: 'NEEDS_ATTENTION', legalDeadline: at(0) }),
          scheduled({ state: 'COMPLETED', legalDeadline: at(0) }),
          aDeletionRequest({ state: 'EXPIRED', legalDeadline: at(0) }),
        ];
        await Promise.all(requests.map((r) => repo.insert(r)));

        expect(await repo.countOpen(now)).toEqual({
          byState: { REQUESTED: 1, SCHEDULED: 2, NEEDS_ATTENTION: 1 },
          nearDeadline: 2,
        });
      });

      it('finds closed requests due for the retention sweep: old, owing nothing, the key destroyed once completed', async () => {
        const old = at(DAY - MINUTE);
        const cancelled = aDeletionRequest({ state: 'CANCELLED', updatedAt: old });
        const shredded = scheduled({
          state: 'COMPLETED',
          updatedAt: old,
          subjectKeyDestroyedAt: old,
        });
        const notYetShredded = scheduled({ state: 'COMPLETED', updatedAt: old });
        const recent = aDeletionRequest({ state: 'CANCELLED', updatedAt: at(DAY + MINUTE) });
        const open = scheduled({ updatedAt: old });
        const owesRestore = scheduled({
          state: 'RESTORED',
          updatedAt: old,
          notices: { phase: 'restore', pending: ['crm'], attempts: 0, dueAt: old },
        });
        const unsynced = scheduled({ state: 'RESTORED', updatedAt: old, accountSynced: false });
        const owesAudit = aDeletionRequest({
          state: 'CANCELLED',
          updatedAt: old,
          history: [change('REQUESTED', 'CANCELLED', old)],
        });
        const owesNotice = aDeletionRequest({
          state: 'CANCELLED',
          updatedAt: old,
          outbox: [
            {
              key: 'RECEIPT@0',
              notice: { kind: 'RECEIPT', deletionRequestId: aRequestId(), deadline: at(30 * DAY) },
              attempts: 0,
              owedAt: old,
              dueAt: old,
            },
          ],
        });
        const swept = aDeletionRequest({
          state: 'CANCELLED',
          updatedAt: old,
          retention: { sweptAt: old, reportSha256: null, snapshotsPruned: true },
        });
        // Swept, but its snapshots not pruned yet: due again, however recent.
        const unpruned = aDeletionRequest({
          state: 'CANCELLED',
          updatedAt: at(DAY + MINUTE),
          retention: { sweptAt: old, reportSha256: null, snapshotsPruned: false },
        });
        const all = [
          cancelled,
          shredded,
          notYetShredded,
          recent,
          open,
          owesRestore,
          unsynced,
          owesAudit,
          owesNotice,
          swept,
          unpruned,
        ];
        // Built requests owe their receipt; all but one here have sent it.
        await Promise.all(all.map((r) => repo.insert(r === owesNotice ? r : { ...r, outbox: [] })));

        expect(ids(await repo.findRetentionDue(now, 20))).toEqual(
          ids([cancelled, shredded, unpruned]),
        );
      });

      it('finds completed requests whose subject key is not recorded as destroyed', async () => {
        const due = scheduled({ state: 'COMPLETED', completedAt: at(DAY) });
        const done = scheduled({ state: 'COMPLETED', subjectKeyDestroyedAt: at(DAY) });
        const open = scheduled();
        await Promise.all([due, done, open].map((r) => repo.insert(r)));

        expect(ids(await repo.findUnshredded(10))).toEqual([due.id]);
      });

      it('finds requests owing the audit log a fact recorded before the cut-off, the oldest first', async () => {
        const older = aDeletionRequest({
          state: 'CANCELLED',
          history: [change('REQUESTED', 'CANCELLED', at(MINUTE))],
        });
        const old = aDeletionRequest({
          state: 'CANCELLED',
          history: [change('REQUESTED', 'CANCELLED', at(2 * MINUTE))],
        });
        const audited = aDeletionRequest({
          state: 'CANCELLED',
          history: [change('REQUESTED', 'CANCELLED', at(MINUTE))],
          audited: { changes: 1, notices: 0, answers: [], alerts: [] },
        });
        const recent = aDeletionRequest({
          state: 'CANCELLED',
          history: [change('REQUESTED', 'CANCELLED', at(DAY + 1))],
        });
        await Promise.all([recent, audited, old, older].map((r) => repo.insert(r)));

        expect((await repo.findAuditDue(now, 10)).map((r) => r.id)).toEqual([older.id, old.id]);
        expect(await repo.findAuditDue(now, 1)).toHaveLength(1);
      });

      it('lists what requests record for the audit log, by id, a page at a time', async () => {
        const answered = erasing({
          sentNotices: [everyFieldSet.sentNotices[0]!],
          participants: {
            billing: { ...pending, status: 'DONE', outcome: { kind: 'NOTHING_FOUND' } },
            crm: pending,
          },
          ownerAlerts: [
            {
              participant: 'crm',
              team: 'care',
              reason: null,
              traceId: '',
              owedAt: at(0),
              status: 'GIVEN_UP',
              attempts: 3,
              dueAt: null,
              settledAt: at(MINUTE),
            },
            {
              participant: 'search',
              team: 'discovery',
              reason: null,
              traceId: '',
              owedAt: at(0),
              status: 'OWED',
              attempts: 0,
              dueAt: at(DAY),
              settledAt: null,
            },
          ],
          audited: { changes: 1, notices: 0, answers: ['billing'], alerts: [] },
        });
        const plain = aDeletionRequest();
        await Promise.all([answered, plain].map((r) => repo.insert(r)));
        const [first, second] = [answered, plain].sort((a, b) => (a.id < b.id ? -1 : 1));

        const page = await repo.listAuditRecords('', 1);
        expect(page.map((record) => record.id)).toEqual([first!.id]);
        const rest = await repo.listAuditRecords(first!.id, 10);
        expect(rest.map((record) => record.id)).toEqual([second!.id]);
        expect(await repo.listAuditRecords(second!.id, 10)).toEqual([]);
        expect(await repo.listAuditRecords('', 0)).toEqual([]);

        const [record] = [...page, ...rest].filter((r) => r.id === answered.id);
        expect(record).toEqual({
          id: answered.id,
          changes: answered.history.map(({ from, to, at: when }) => ({ from, to, at: when })),
          audited: { changes: 1, notices: 0, answers: ['billing'], alerts: [] },
          answers: [{ participant: 'billing', outcome: 'NOTHING_FOUND', at: pending.updatedAt }],
          notices: [{ key: 'RECEIPT@0', at: everyFieldSet.sentNotices[0]!.at }],
          // Settled alerts only: one still owed calls for no event yet.
          alerts: [{ participant: 'crm', at: at(MINUTE) }],
        });
      });
    });

    describe('personal data of the subject', () => {
      it('reads a request whose subject key is destroyed with the personal data absent', async () => {
        const request = erasing();
        await repo.insert(request);
        await keys.destroy(request.subjectId);

        expect(await repo.findById(request.id)).toEqual(
          unsealable(request, {
            email: null,
            phone: null,
            pushToken: null,
            preferredChannel: null,
            locale: null,
          }),
        );
      });

      it('makes no new key for a request that records its key as destroyed, and drops what it held', async () => {
        const request = erasing({ state: 'COMPLETED', subjectKeyDestroyedAt: at(DAY) });
        await repo.insert(request);

        expect(await keys.find(request.subjectId)).toBeNull();
        expect(await repo.findById(request.id)).toEqual(unsealable(request, null));
      });
    });
  });
};
