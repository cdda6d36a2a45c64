import { createServer, type AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { mongo } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type {
  DeletionRequestRepository,
  ListQuery,
} from '../../src/app/ports/deletion-request-repository.js';
import type { DeletionRequest } from '../../src/domain/deletion-request.js';
import type { ParticipantStep } from '../../src/domain/erasure-steps.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { DELETION_REQUESTS } from '../../src/persistence/mongo/deletion-request-model.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import {
  connectMongo,
  disconnectMongo,
  serverTraits,
} from '../../src/persistence/mongo/mongo-connection.js';
import { createMongoDeletionRepository } from '../../src/persistence/mongo/mongo-deletion-repository.js';
import type { WriteProtocol } from '../../src/persistence/mongo/request-writes.js';
import { toDocument } from '../../src/persistence/mongo/deletion-request-mapper.js';
import {
  createVersionClaims,
  DELETION_REQUEST_VERSIONS,
} from '../../src/persistence/mongo/version-claims.js';
import { createMongoSubjectKeyStore } from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { createLocalKeyEncryptionKey } from '../../src/crypto/local-key-encryption-key.js';
import { createSubjectCipher } from '../../src/crypto/subject-cipher.js';
import type { SubjectCipher } from '../../src/app/ports/subject-keys.js';
import {
  aDeletionRequest,
  aRequestId,
  aSubjectId,
  BUILT_AT,
} from '../fixtures/deletion-request-builder.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';

type Connection = Awaited<ReturnType<typeof connectMongo>>;

const uri = inject('mongoUri');
const protocols: readonly WriteProtocol[] = ['compare-and-set', 'version-claims'];
const dbName = `test_repo_${process.pid}_${Date.now()}`;
const names = { accounts: 'accounts', sessions: 'sessions', apiTokens: 'api_tokens' };
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const at = (offsetMs: number): Date => new Date(BUILT_AT.getTime() + offsetMs);
const ids = (requests: readonly DeletionRequest[]): string[] => requests.map((r) => r.id).sort();
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
const query = (q: Partial<ListQuery>): ListQuery => ({
  state: undefined,
  subjectId: undefined,
  limit: 50,
  after: undefined,
  ...q,
});

const scheduled = (overrides: Partial<DeletionRequest> = {}): DeletionRequest =>
  aDeletionRequest({
    state: 'SCHEDULED',
    version: 2,
    confirmationMethod: 'ONE_TIME_CODE',
    verification: null,
    deletedAt: at(MINUTE),
    purgeAt: at(30 * DAY),
    ...overrides,
  });

const everyFieldSet = aDeletionRequest({
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

let conn: Connection | undefined;
/** A second connection whose commands are recorded in `commands`. */
let monitored: Connection | undefined;
const commands: mongo.CommandStartedEvent[] = [];
let repo: DeletionRequestRepository;
let cipher: SubjectCipher;
const keyVault = () => conn!.useDb(`${dbName}_keys`, { useCache: true });

beforeAll(async () => {
  conn = await connectMongo({ uri, dbName });
  await migrate(conn, names);
  const kek = createLocalKeyEncryptionKey('test-only-data-kek-0123456789abcdef');
  cipher = createSubjectCipher(createMongoSubjectKeyStore(keyVault(), kek));
  repo = createMongoDeletionRepository(conn, cipher);
  monitored = await connectMongo({
    uri: `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`,
    dbName,
  });
  monitored.getClient().on('commandStarted', (event) => {
    if (event.commandName !== 'endSessions') commands.push(event);
  });
});

beforeEach(async () => {
  await conn?.collection(DELETION_REQUESTS).deleteMany({});
});

afterAll(async () => {
  if (conn === undefined) return;
  await keyVault().dropDatabase();
  await conn.dropDatabase();
  await disconnectMongo(conn);
  if (monitored) await disconnectMongo(monitored);
});

describe.each(protocols)('createMongoDeletionRepository (%s)', (protocol) => {
  beforeAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher, { protocol });
  });
  afterAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher);
  });

  it.each([
    ['a fresh request', aDeletionRequest()],
    ['a request with every field set', everyFieldSet],
  ])('reads back %s exactly as inserted', async (_, request) => {
    expect(await repo.insert(request)).toEqual({ kind: 'INSERTED' });
    expect(await repo.findById(request.id)).toEqual(request);
  });

  it('finds a request by its idempotency key and answers null for unknown ones', async () => {
    await repo.insert(everyFieldSet);
    expect(await repo.findByIdempotencyKey('SERVICE:support-console:req-1')).toEqual(everyFieldSet);
    expect(await repo.findByIdempotencyKey('SERVICE:support-console:other')).toBeNull();
    expect(await repo.findById(aRequestId())).toBeNull();
  });

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
    const subjectId = aDeletionRequest().subjectId;
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
    ).toEqual({
      kind: 'DUPLICATE_IDEMPOTENCY_KEY',
    });
  });

  it('stores any number of requests without an idempotency key', async () => {
    expect(await repo.insert(aDeletionRequest({ idempotencyKey: null }))).toEqual({
      kind: 'INSERTED',
    });
    expect(await repo.insert(aDeletionRequest({ idempotencyKey: null }))).toEqual({
      kind: 'INSERTED',
    });
  });

  it('updates only from the expected version', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    const confirmed = {
      ...scheduled({ id: request.id, subjectId: request.subjectId }),
      updatedAt: at(MINUTE),
    };
    expect(await repo.update(confirmed, request)).toBe(true);
    expect(await repo.update({ ...request, state: 'CANCELLED', version: 2 }, request)).toBe(false);
    expect(await repo.findById(request.id)).toEqual(confirmed);
  });

  it('lets exactly one of twenty concurrent updates from the same version win', async (context) => {
    // FerretDB 1.x applies a guarded update as "read, then overwrite": only MongoDB can run this one.
    if (protocol === 'compare-and-set' && !(await serverTraits(conn!)).compareAndSet)
      context.skip();
    const request = aDeletionRequest();
    await repo.insert(request);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repo.update({ ...request, version: 2, reason: `writer ${i}` }, request),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await repo.findById(request.id))?.reason).toBe(`writer ${results.indexOf(true)}`);
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
  });

  it('counts exactly the allowed confirmation attempts under 50 concurrent calls, leaving the version', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => repo.reserveConfirmationAttempt(request.id, 5)),
    );
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(await repo.reserveConfirmationAttempt(request.id, 5)).toBe(false);
    expect((await repo.findById(request.id))?.version).toBe(1);
    expect(await repo.update({ ...request, state: 'CANCELLED', version: 2 }, request)).toBe(true);
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

  it('sends only what changed: the fields set, history pushed, one linked service set', async () => {
    const pending: ParticipantStep = {
      status: 'PENDING',
      attempts: 0,
      lastErrorCode: null,
      nextAttemptAt: null,
      expectedBy: null,
      outcome: null,
      updatedAt: at(0),
    };
    const request = aDeletionRequest({
      state: 'ERASING',
      participants: {
        billing: pending,
        'linked-2': pending,
      },
    });
    const mine = createMongoDeletionRepository(monitored!, cipher, { protocol });
    await mine.insert(request);
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
      history: [
        ...request.history,
        {
          from: 'ERASING',
          to: 'ERASING',
          actor: { kind: 'SYSTEM', id: 'w' },
          at: at(MINUTE),
          note: '',
          traceId: '',
          spanId: '',
        },
      ],
    };
    commands.length = 0;
    expect(await mine.update(next, request)).toBe(true);

    const sent = commands.map((event) => event.commandName);
    expect(sent).toEqual(protocol === 'compare-and-set' ? ['update'] : ['insert', 'update']);
    const [statement] = (
      commands.at(-1)!.command as {
        updates: { q: object; u: Record<string, Record<string, unknown>> }[];
      }
    ).updates;
    expect(statement?.q).toEqual({ _id: request.id, version: 1 });
    expect(Object.keys(statement?.u.$set ?? {}).sort()).toEqual([
      // The pushed change is owed to the audit log from then on.
      'auditDueAt',
      'participants.billing',
      'updatedAt',
      'version',
    ]);
    expect(Object.keys(statement?.u.$push ?? {})).toEqual(['history']);
    expect(await repo.findById(request.id)).toEqual(next);
  });

  it('reads back every field changed at once, the personal data sealed again', async () => {
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
    const stored = JSON.stringify(
      await conn!.collection(DELETION_REQUESTS).findOne({ _id: request.id }),
    );
    expect(stored).not.toContain('changed my mind');
  });

  it('does not report an update of a request that does not exist as done', async () => {
    const ghost = aDeletionRequest();
    expect(await repo.update({ ...ghost, version: 2 }, ghost)).toBe(false);
  });

  it('removes a request only at the expected version', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    expect(await repo.remove(request.id, 2)).toBe(false);
    expect(await repo.remove(request.id, 1)).toBe(true);
    expect(await repo.findById(request.id)).toBeNull();
    expect(await repo.remove(request.id, 1)).toBe(false);
  });
});

describe('version claims (a server that cannot compare-and-set)', () => {
  beforeAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher, { protocol: 'version-claims' });
  });
  afterAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher);
  });

  it('rolls a request forward when its writer died between claiming a version and writing it', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    const orphan = {
      ...request,
      state: 'CANCELLED' as const,
      version: 2,
      reason: 'written by a dead writer',
    };
    // The dead writer got as far as its claim.
    await createVersionClaims(conn!).claimVersion(request.id, 2, toDocument(orphan));
    // ...long enough ago that it is no writer at work any more.
    await conn!
      .collection<{ _id: string }>('deletion_request_versions')
      .updateOne({ _id: `${request.id}#2` }, { $set: { claimedAt: new Date(Date.now() - 5000) } });
    expect((await repo.findById(request.id))?.version).toBe(1);

    expect(await repo.update({ ...request, state: 'EXPIRED', version: 2 }, request)).toBe(false);

    expect(await repo.findById(request.id)).toEqual(orphan);
    expect(await repo.update({ ...orphan, reason: 'next', version: 3 }, orphan)).toBe(true);
  });

  it('refuses a stale writer after the request reached a final state and its old snapshots were pruned', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    const cancelled = { ...request, state: 'CANCELLED' as const, version: 2 };
    const completedLater = { ...cancelled, reason: 'final', version: 3 };
    expect(await repo.update(cancelled, request)).toBe(true);
    expect(await repo.update(completedLater, cancelled)).toBe(true);
    // The final write prunes the snapshots below it.
    await vi.waitFor(async () =>
      expect(
        await conn!
          .collection('deletion_request_versions')
          .countDocuments({ requestId: request.id, snapshot: null }),
      ).toBe(1),
    );

    // A writer that read version 1 long ago must still lose.
    expect(await repo.update({ ...request, state: 'EXPIRED', version: 2 }, request)).toBe(false);
    expect(await repo.findById(request.id)).toEqual(completedLater);
  });
});

describe('requests stored before the worker flags existed', () => {
  it('are found by the worker queries once migrate has set their flags', async () => {
    const unshredded = scheduled({ state: 'COMPLETED', completedAt: at(DAY), outbox: [] });
    const suspending = scheduled({
      notices: { phase: 'suspend', pending: ['billing'], attempts: 0, dueAt: at(0) },
    });
    await Promise.all([unshredded, suspending].map((r) => repo.insert(r)));
    await conn!
      .collection(DELETION_REQUESTS)
      .updateMany({}, { $unset: { noticesOwed: '', keyToShred: '' } });
    expect(await repo.findUnshredded(10)).toEqual([]);
    expect(await repo.findNoticesDue(at(MINUTE), 10)).toEqual([]);

    await migrate(conn!, names);

    expect(ids(await repo.findUnshredded(10))).toEqual([unshredded.id]);
    expect(ids(await repo.findNoticesDue(at(MINUTE), 10))).toEqual([suspending.id]);
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

    const pages: string[][] = [];
    let after: ListQuery['after'];
    for (let round = 0; round < 4; round += 1) {
      const page = await repo.list(query({ limit: 3, after }));
      if (page.length === 0) break;
      pages.push(page.map((r) => r.id));
      const last = page.at(-1)!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(expected);
  });

  it('filters by state and by subject', async () => {
    const older = aDeletionRequest({ state: 'CANCELLED', createdAt: at(0) });
    const newer = aDeletionRequest({ subjectId: older.subjectId, createdAt: at(MINUTE) });
    const other = aDeletionRequest({ state: 'CANCELLED', createdAt: at(2 * MINUTE) });
    await Promise.all([older, newer, other].map((r) => repo.insert(r)));

    const listed = async (q: Partial<ListQuery>) => (await repo.list(query(q))).map((r) => r.id);
    expect(await listed({ subjectId: older.subjectId })).toEqual([newer.id, older.id]);
    expect(await listed({ state: 'CANCELLED' })).toEqual([other.id, older.id]);
    expect(await listed({ state: 'CANCELLED', subjectId: older.subjectId })).toEqual([older.id]);
    expect(await listed({ limit: 0 })).toEqual([]);
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
    await Promise.all([due, dueNow, notYet, abandoned, held, restored].map((r) => repo.insert(r)));

    expect(ids(await repo.findDueForErasure(now, 10))).toEqual(ids([due, dueNow, abandoned]));
    expect(await repo.findDueForErasure(now, 2)).toHaveLength(2);
  });

  it('finds requests still REQUESTED past their confirmation window', async () => {
    const expired = aDeletionRequest({ confirmExpireAt: at(DAY - 1) });
    const pending = aDeletionRequest({ confirmExpireAt: at(DAY + 1) });
    const awaiting = aDeletionRequest({ state: 'AWAITING_APPROVAL', confirmExpireAt: at(0) });
    await Promise.all([expired, pending, awaiting].map((r) => repo.insert(r)));

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

  it('finds closed requests due for the retention sweep: old, owing nothing, the key destroyed once completed', async () => {
    const old = at(DAY - MINUTE);
    const cancelled = aDeletionRequest({ state: 'CANCELLED', updatedAt: old });
    const shredded = scheduled({ state: 'COMPLETED', updatedAt: old, subjectKeyDestroyedAt: old });
    // Written before the sweep existed: no retention, notices or outboxDueAt fields at all.
    const legacy = aDeletionRequest({ state: 'EXPIRED', updatedAt: old });
    const notYetShredded = scheduled({ state: 'COMPLETED', updatedAt: old });
    const recent = aDeletionRequest({ state: 'CANCELLED', updatedAt: at(DAY + MINUTE) });
    const open = scheduled({ updatedAt: old });
    const owesRestore = scheduled({
      state: 'RESTORED',
      updatedAt: old,
      notices: { phase: 'restore', pending: ['crm'], attempts: 0, dueAt: old },
    });
    const unsynced = scheduled({ state: 'RESTORED', updatedAt: old, accountSynced: false });
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
      legacy,
      notYetShredded,
      recent,
      open,
      owesRestore,
      unsynced,
      owesNotice,
      swept,
      unpruned,
    ];
    // Built requests owe their receipt; all but one here have sent it.
    await Promise.all(all.map((r) => repo.insert(r === owesNotice ? r : { ...r, outbox: [] })));
    await conn!
      .collection(DELETION_REQUESTS)
      .updateOne({ _id: legacy.id }, { $unset: { retention: '', notices: '', outboxDueAt: '' } });

    expect(ids(await repo.findRetentionDue(now, 20))).toEqual(
      ids([cancelled, shredded, legacy, unpruned]),
    );
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
});

describe.each(protocols)('personal data of the subject (%s)', (protocol) => {
  beforeAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher, { protocol });
  });
  afterAll(() => {
    repo = createMongoDeletionRepository(conn!, cipher);
  });

  const personal = [
    'subject@mail.test',
    '+49301234567',
    'device-7',
    'no longer using the service',
    'checked the ticket',
    'backups to restore',
  ];
  const storedText = async (id: string) =>
    JSON.stringify([
      await conn!.collection(DELETION_REQUESTS).findOne({ _id: id as never }),
      await conn!.collection(DELETION_REQUEST_VERSIONS).find({ requestId: id }).toArray(),
    ]);
  const erasing = (overrides: Partial<DeletionRequest> = {}) =>
    aDeletionRequest({
      ...everyFieldSet,
      id: aRequestId(),
      subjectId: aSubjectId(),
      state: 'ERASING',
      idempotencyKey: null,
      report: null,
      ...overrides,
    });

  it('stores the reason, the review note and the contact only sealed, in the request and its snapshots', async () => {
    const request = erasing();
    await repo.insert(request);
    const next = { ...request, version: request.version + 1, leaseOwner: 'worker-2' };
    expect(await repo.update(next, request)).toBe(true);

    const stored = await storedText(request.id);
    for (const value of personal) expect(stored).not.toContain(value);
    expect(stored).toContain('pd1:');
    expect(await repo.findById(request.id)).toEqual(next);
  });

  it('reads a request whose subject key is destroyed with the personal data absent', async () => {
    const request = erasing();
    await repo.insert(request);
    await createMongoSubjectKeyStore(
      keyVault(),
      createLocalKeyEncryptionKey('test-only-data-kek-0123456789abcdef'),
    ).destroy(request.subjectId);

    expect(await repo.findById(request.id)).toEqual({
      ...request,
      reason: '',
      reviewNote: null,
      deadlineExtension: { ...request.deadlineExtension, reason: '' },
      outbox: request.outbox.map((owed) =>
        owed.notice.kind === 'DEADLINE_EXTENDED'
          ? { ...owed, notice: { ...owed.notice, reason: '' } }
          : owed,
      ),
      finalNotice: {
        ...request.finalNotice,
        contact: {
          email: null,
          phone: null,
          pushToken: null,
          preferredChannel: null,
          locale: null,
        },
      },
    });
  });

  it('makes no new key for a request that records its key as destroyed, and drops what it held', async () => {
    const request = erasing({ state: 'COMPLETED', subjectKeyDestroyedAt: at(DAY) });
    await repo.insert(request);

    expect(
      await keyVault()
        .collection('subject_keys')
        .countDocuments({ _id: request.subjectId as never }),
    ).toBe(0);
    const stored = await storedText(request.id);
    for (const value of personal) expect(stored).not.toContain(value);
    expect(await repo.findById(request.id)).toMatchObject({ reason: '', reviewNote: null });
  });

  it('finds completed requests whose subject key is not recorded as destroyed', async () => {
    const due = scheduled({ state: 'COMPLETED', completedAt: at(DAY) });
    const done = scheduled({ state: 'COMPLETED', subjectKeyDestroyedAt: at(DAY) });
    const open = scheduled();
    await Promise.all([due, done, open].map((r) => repo.insert(r)));

    expect(ids(await repo.findUnshredded(10))).toEqual([due.id]);
  });
});

describe('migrate', () => {
  it('creates the unique keys and is safe to run again', async () => {
    await migrate(conn!, names);
    const indexes = await conn!.collection(DELETION_REQUESTS).indexes();
    const unique = indexes.filter((index) => index.unique === true).map((index) => index.name);
    expect(unique).toEqual(expect.arrayContaining(['active_key_unique', 'idempotency_key_unique']));
    expect(indexes.map((index) => index.name)).toEqual(
      expect.arrayContaining([
        'created_at_desc',
        'subject_created_at',
        'state_purge_at',
        'state_confirm_expire_at',
      ]),
    );
  });

  it('drops the retired index of version claims when an older version left it', async () => {
    const versions = conn!.collection('deletion_request_versions');
    await versions.createIndexes([{ key: { requestId: 1, version: -1 }, name: 'request_version' }]);
    await migrate(conn!, names);
    expect((await versions.indexes()).map((index) => index.name)).not.toContain('request_version');
    await migrate(conn!, names);
  });
});

describe('tracing', () => {
  it('records one span per call with the request id (key vault calls with nothing), never the subject', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    trace.setGlobalTracerProvider(provider);
    try {
      const request = aDeletionRequest();
      await repo.insert(request);
      await repo.findActiveBySubject(request.subjectId);
      const spans = exporter.getFinishedSpans();
      // The reason is sealed with the subject's key (made on insert, read back on find).
      expect(spans.map((span) => span.name)).toEqual([
        'persistence.subject_keys.get_or_create',
        'persistence.deletion_requests.insert',
        'persistence.subject_keys.find',
        'persistence.deletion_requests.find_active_by_subject',
      ]);
      expect(spans[1]?.attributes).toEqual({
        'db.system.name': 'mongodb',
        'deletion.request_id': request.id,
      });
      expect(spans[0]?.attributes).toEqual({ 'db.system.name': 'mongodb' });
      expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain(request.subjectId);
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });
});

describe('when the database is away', () => {
  it('fails to connect with UNAVAILABLE', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const error = await rejection(
      connectMongo({ uri: `mongodb://127.0.0.1:${port}/`, dbName, serverSelectionTimeoutMS: 300 }),
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE' });
  });

  it('answers UNAVAILABLE from every kind of call once the database goes away', async () => {
    const proxy = await startCuttableProxy(new URL(uri).host);
    const away = await connectMongo({
      uri: `${proxy.uriThrough(uri)}${uri.includes('?') ? '&' : '?'}directConnection=true`,
      dbName,
      serverSelectionTimeoutMS: 300,
    });
    try {
      const cut = createMongoDeletionRepository(away, cipher);
      expect(await cut.findById(aRequestId())).toBeNull();
      proxy.cut();
      // Nothing to seal: the insert needs no subject key, whose store is on the healthy connection.
      const unsealed = aDeletionRequest({ reason: '' });
      for (const call of [
        () => cut.insert(unsealed),
        () => cut.findById(aRequestId()),
        () => cut.list(query({})),
      ]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(DomainError);
        const cause = (error as { cause?: unknown }).cause;
        expect(
          error,
          `${String(call)}: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
        ).toMatchObject({ code: 'UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE' });
      }
    } finally {
      await disconnectMongo(away);
      await proxy.close();
    }
  });
});
