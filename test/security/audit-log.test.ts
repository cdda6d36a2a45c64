import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OWED_AUDIT_GRACE_MS } from '../../src/app/worker/append-owed-audit.js';
import { verifyAuditChain } from '../../src/app/audit/audit-trail.js';
import { cancel } from '../../src/domain/lifecycle.js';
import { createMongoDeletionRepository } from '../../src/persistence/mongo/mongo-deletion-repository.js';
import { aDeletionRequest } from '../fixtures/deletion-request-builder.js';
import { createAuditSeal } from '../../src/crypto/audit-seal.js';
import { chainedContent, type AuditEntry } from '../../src/domain/audit-event.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import { AUDIT_EVENTS, createMongoAuditLog } from '../../src/persistence/mongo/mongo-audit-log.js';
import { connectMongo, disconnectMongo } from '../../src/persistence/mongo/mongo-connection.js';
import { adminAuth, castFor, newSubjectId } from '../support/principals.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import {
  AuditEventKind,
  VerifyAuditLogResponse_Problem,
} from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { callError } from '../support/grpc-test-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Connection = Awaited<ReturnType<typeof connectMongo>>;
/** An event as the database holds it (the sequence is the `_id`). */
type StoredEvent = { _id: number } & Record<string, unknown>;

const KEY = 'test-only-audit-key-0123456789abcdef';
const names = { accounts: 'accounts', sessions: 'sessions', apiTokens: 'api_tokens' };

const entry = (n: number, key = `entry-${String(n)}`): AuditEntry => ({
  kind: 'ADMIN_ACTION',
  at: new Date(Date.UTC(2026, 10, 29, 9, 0, n)),
  actor: { kind: 'USER', id: `admin-${String(n % 3)}` },
  deletionRequestId: `request-${String(n)}`,
  subjectPseudonym: `psn_${String(n)}`,
  details: { action: 'retry', note: `attempt ${String(n)}` },
  key,
});

/** Connections opened by the tests, each to a database of its own, dropped at the end. */
const opened: Connection[] = [];
const connect = async (dbName: string): Promise<Connection> => {
  const conn = await connectMongo({ uri: inject('mongoUri'), dbName });
  opened.push(conn);
  return conn;
};
afterAll(async () => {
  for (const conn of opened) {
    await conn.dropDatabase().catch(() => undefined);
    await disconnectMongo(conn);
  }
});

/** Services started by the tests, each on a database of its own. */
const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t[Symbol.asyncDispose]();
});

/** The whole service with a log of `count` events (its own database), for tampering. */
const freshLog = async (count: number) => {
  const t = await startTestApp();
  apps.push(t);
  const { log, seal } = t.app.audit;
  for (let n = 1; n <= count; n += 1) await log.append(entry(n));
  return { t, seal, log, events: t.app.connection.collection<StoredEvent>(AUDIT_EVENTS) };
};

const adminToken = async () => (await adminAuth('admin-auditor')).token;

/**
 * VerifyAuditLog's answer over tRPC and over gRPC, which must agree on the
 * verdict (each call is audited in turn, so the second one sees one more event).
 */
const verdict = async ({ t }: { t: TestApp }) => {
  const token = await adminToken();
  const trpc = await createTrpcClient({ url: t.trpcUrl, token }).verifyAuditLog.query();
  const grpc = await t.client.verifyAuditLog({}, { token });
  expect({
    intact: grpc.intact,
    firstBadSequence: Number(grpc.firstBadSequence),
    problem: VerifyAuditLogResponse_Problem[grpc.problem],
  }).toEqual({
    intact: trpc.intact,
    firstBadSequence: trpc.intact ? 0 : trpc.firstBadSequence,
    problem: trpc.intact ? 'PROBLEM_UNSPECIFIED' : `PROBLEM_${trpc.problem}`,
  });
  return trpc;
};

describe('the audit log', () => {
  it('chains appends from two replicas racing each other without a gap, a fork or a repeat', async () => {
    const dbName = `audit_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const [first, second] = [await connect(dbName), await connect(dbName)];
    await migrate(first, names);
    const seal = createAuditSeal(KEY);
    const replicas = [createMongoAuditLog(first, seal), createMongoAuditLog(second, seal)];

    // 60 entries, 30 per replica at once; 10 of them sent twice (a retry) by the other replica,
    // 5 twice by the same one (a repeat inside one group of appends).
    await Promise.all(
      Array.from({ length: 60 }, (_, n) => replicas[n % 2]!.append(entry(n + 1)))
        .concat(
          Array.from({ length: 10 }, (_, n) => replicas[(n + 1) % 2]!.append(entry(n * 2 + 1))),
        )
        .concat(Array.from({ length: 5 }, (_, n) => replicas[0]!.append(entry(n * 4 + 1)))),
    );

    const events = await replicas[0]!.read(0, 1000);
    expect(events.map((event) => event.sequence)).toEqual(
      Array.from({ length: 60 }, (_, n) => n + 1),
    );
    expect(new Set(events.map((event) => event.key)).size).toBe(60);
    expect(await verifyAuditChain(replicas[1]!, seal)).toEqual({ intact: true, events: 60 });
  });

  it('catches up with a replica that appended a long run since, in a few round trips', async () => {
    const dbName = `audit_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const busy = await connect(dbName);
    const uri = inject('mongoUri');
    const behind = await connectMongo({
      uri: `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`,
      dbName,
    });
    opened.push(behind);
    await migrate(busy, names);
    const seal = createAuditSeal(KEY);
    const [ahead, trailing] = [createMongoAuditLog(busy, seal), createMongoAuditLog(behind, seal)];
    await trailing.append(entry(1));
    for (let group = 0; group < 4; group += 1)
      await Promise.all(
        Array.from({ length: 20 }, (_, n) => ahead.append(entry(2 + group * 20 + n))),
      );

    // The trailing replica knows event 1 as the end; 80 were appended after it.
    const commands: string[] = [];
    behind.getClient().on('commandStarted', (event) => commands.push(event.commandName));
    await trailing.append(entry(82));

    // 80 events in 4 inserts behind: each lost insert costs the event that took the place
    // (naming where that insert ended) and that end, not a read per event it trails.
    const count = (name: string) => commands.filter((command) => command === name).length;
    expect({ inserts: count('insert'), finds: count('find'), updates: count('update') }).toEqual({
      inserts: 5,
      finds: 8,
      updates: 1,
    });
    const events = await trailing.read(0, 1000);
    expect(events.map((event) => event.sequence)).toEqual(
      Array.from({ length: 82 }, (_, n) => n + 1),
    );
    expect(await verifyAuditChain(ahead, seal)).toEqual({ intact: true, events: 82 });
  });

  it('keeps the details only encrypted: the database holds neither them nor anything that opens without the key', async () => {
    const { seal, log, events } = await freshLog(1);
    const stored = JSON.stringify(await events.find().toArray());
    expect(stored).not.toContain('attempt 1');
    expect(stored).not.toContain('retry');
    const [event] = await log.read(0, 1);
    expect(seal.open(event!.sealedDetails)).toEqual({ action: 'retry', note: 'attempt 1' });
    expect(() => createAuditSeal(`${KEY}-other`).open(event!.sealedDetails)).toThrow(
      expect.objectContaining({ reason: 'AUDIT_DETAILS_UNREADABLE' }),
    );
  });

  describe('names the first bad sequence after tampering', () => {
    const COUNT = 10;

    it('verifies the untouched log', async () => {
      const fresh = await freshLog(COUNT);
      expect(await verdict(fresh)).toMatchObject({ intact: true, events: COUNT });
    });

    it('a changed field', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      await events.updateOne({ _id: 5 }, { $set: { 'actor.id': 'someone-else' } });
      expect(await verdict(fresh)).toMatchObject({
        intact: false,
        firstBadSequence: 5,
        problem: 'ALTERED',
      });
    });

    it('a deleted event', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      await events.deleteOne({ _id: 6 });
      expect(await verdict(fresh)).toMatchObject({ firstBadSequence: 6, problem: 'MISSING' });
    });

    it('two events swapped', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      const [four, seven] = [await events.findOne({ _id: 4 }), await events.findOne({ _id: 7 })];
      await events.deleteMany({ _id: { $in: [4, 7] } });
      await events.insertMany([
        { ...seven!, _id: 4 },
        { ...four!, _id: 7 },
      ]);
      expect(await verdict(fresh)).toMatchObject({ firstBadSequence: 4, problem: 'ALTERED' });
    });

    it('a cut-off tail', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      await events.deleteMany({ _id: { $gte: 8 } });
      expect(await verdict(fresh)).toMatchObject({ firstBadSequence: 8, problem: 'MISSING' });
    });

    it('a forged event appended without the key', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      const last = (await events.findOne({ _id: COUNT }))!;
      await events.insertOne({
        ...last,
        _id: COUNT + 1,
        key: 'forged',
        previousHash: last.hash,
        hash: createAuditSeal('a-forger-does-not-know-the-key-000').mac('forged'),
      });
      expect(await verdict(fresh)).toMatchObject({
        firstBadSequence: COUNT + 1,
        problem: 'ALTERED',
      });
    });

    it('an event re-hashed with another key, and one that names the wrong predecessor', async () => {
      const fresh = await freshLog(COUNT);
      const { events } = fresh;
      const forger = createAuditSeal('a-forger-does-not-know-the-key-000');
      const [event] = await fresh.log.read(2, 1); // sequence 3
      const changed = { ...event!, actor: { kind: event!.actor.kind, id: 'someone-else' } };
      await events.updateOne(
        { _id: 3 },
        { $set: { 'actor.id': 'someone-else', hash: forger.mac(chainedContent(changed)) } },
      );
      expect(await verdict(fresh)).toMatchObject({ firstBadSequence: 3, problem: 'ALTERED' });

      // Re-hashed with the right key, but pointing at another predecessor: the link breaks.
      const other = await freshLog(COUNT);
      const [ninth] = await other.log.read(8, 1);
      const relinked = { ...ninth!, previousHash: 'f'.repeat(64) };
      await other.events.updateOne(
        { _id: 9 },
        {
          $set: {
            previousHash: relinked.previousHash,
            hash: other.seal.mac(chainedContent(relinked)),
          },
        },
      );
      expect(await verdict(other)).toMatchObject({
        firstBadSequence: 9,
        problem: 'UNLINKED',
      });
    });
  });

  describe('every state change of a deletion', () => {
    let t: Awaited<ReturnType<typeof startTestApp>>;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => {
      await t[Symbol.asyncDispose]();
    });

    it('is one event, the subject only as its pseudonym, and the chain verifies', async () => {
      const subjectId = newSubjectId('audited');
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const created = await t.client.requestDeletion({ subjectId }, cast.self);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId));
      await t.client.confirmDeletion({ name: created.name, code }, cast.self);
      await t.app.runWorkerPass();
      const id = created.name.split('/')[1]!;
      const stored = (await t.app.deps.requests.findById(id as never))!;
      expect(stored.state).toBe('COMPLETED');

      const { log, seal } = t.app.audit;
      const all = (await log.read(0, 1000)).filter((event) => event.deletionRequestId === id);
      // Notices sent are events of their own (below); the state changes, then the key's destruction.
      const events = all.filter((event) => event.kind !== 'NOTICE_SENT');
      const notices = all.filter((event) => event.kind === 'NOTICE_SENT');
      expect(notices.map((event) => seal.open(event.sealedDetails).kind)).toEqual(
        stored.sentNotices.map((notice) => notice.kind),
      );
      // After the state changes, the destruction of the subject's key (crypto-shredding).
      expect(events.at(-1)?.kind).toBe('KEY_DESTROYED');
      expect(
        events.slice(0, -1).map((event) => {
          const details = seal.open(event.sealedDetails);
          return [event.kind, details.from, details.to, details.traceId === undefined];
        }),
      ).toEqual(stored.history.map((change) => ['STATE_CHANGED', change.from, change.to, false]));
      expect(new Set(events.map((event) => event.subjectPseudonym)).size).toBe(1);
      expect(events[0]!.subjectPseudonym).toMatch(/^psn_/);
      // The subject confirmed it themselves: the actor is their pseudonym as well.
      expect(events[0]!.actor).toEqual({ kind: 'USER', id: events[0]!.subjectPseudonym });
      const raw = JSON.stringify(await t.app.connection.collection(AUDIT_EVENTS).find().toArray());
      expect(raw).not.toContain(subjectId);
      expect(raw).not.toContain(t.emailOf(subjectId));
      expect(await verifyAuditChain(log, seal)).toMatchObject({ intact: true });
    });

    it('is not lost when its writer dies before appending it: housekeeping appends it later', async () => {
      // A writer that stored a change and died before its outbox appended it: the raw repository.
      const raw = createMongoDeletionRepository(t.app.connection, t.app.subjectData.cipher);
      const request = aDeletionRequest({ createdAt: t.clock.now() });
      await raw.insert(request);
      const cancelled = cancel(request, {
        actor: { kind: 'USER', id: 'u-1' },
        now: t.clock.now(),
        traceId: '',
        spanId: '',
      });
      expect(await raw.update(cancelled, request)).toBe(true);
      const key = `${request.id}#change#0`;
      const logged = async () =>
        (await t.app.audit.log.read(0, 10_000)).filter((event) => event.key === key);
      expect(await logged()).toHaveLength(0);
      expect((await t.app.deps.requests.findById(request.id))?.audited.changes).toBe(0);

      // Within a minute it may still be its writer's to append; after that the worker's.
      expect(await t.app.runHousekeeping()).toMatchObject({ audited: 0 });
      t.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
      expect(await t.app.runHousekeeping()).toMatchObject({ audited: 1 });

      expect(await logged()).toHaveLength(1);
      const recorded = await t.app.deps.requests.findById(request.id);
      expect(recorded).toMatchObject({
        audited: { changes: 1 },
        updatedAt: cancelled.updatedAt,
      });
      expect(await t.app.runHousekeeping()).toMatchObject({ audited: 0 });
      expect(await verifyAuditChain(t.app.audit.log, t.app.audit.seal)).toMatchObject({
        intact: true,
      });
    });

    it('is listed for administrators by request, subject, kind and time, page by page; privileged reads are events too', async () => {
      const request = await t.scheduled({ prefix: 'listed' });
      await t.app.runWorkerPass();
      const admin = { token: await adminToken() };
      // The subject reading their own request is no privileged read; a service reading it is.
      await t.client.getDeletionRequest({ name: request.name }, request.cast.self);
      await t.client.getDeletionRequest({ name: request.name }, request.cast.service);

      const byRequest = await t.client.listAuditEvents({ deletionRequest: request.name }, admin);
      const kinds = byRequest.auditEvents.map((event) =>
        AuditEventKind[event.kind].replace('AUDIT_EVENT_KIND_', ''),
      );
      // Its state changes, the destruction of the subject's key once it completed, the service's read.
      expect(kinds.slice(-2)).toEqual(['KEY_DESTROYED', 'PRIVILEGED_READ']);
      expect(
        kinds.slice(0, -2).every((kind) => ['STATE_CHANGED', 'NOTICE_SENT'].includes(kind)),
      ).toBe(true);
      const read = byRequest.auditEvents.at(-1)!;
      expect(read.actor).toEqual({ kind: 2, id: 'svc-support-backend' });
      expect(read.details).toEqual({ operation: 'getDeletionRequest' });
      const changes = byRequest.auditEvents.slice(0, -2).map((event) => event.details.to);
      expect(changes.at(-1)).toBe('COMPLETED');

      // The subject is found through its pseudonym; the answer never holds the id.
      const bySubject = await t.client.listAuditEvents({ subjectId: request.subjectId }, admin);
      expect(bySubject.auditEvents.map((event) => event.sequence)).toEqual(
        byRequest.auditEvents.map((event) => event.sequence),
      );
      expect(JSON.stringify(bySubject)).not.toContain(request.subjectId);

      // Page by page, the same events; a token of another query is refused.
      const paged: string[] = [];
      let pageToken = '';
      do {
        const page = await t.client.listAuditEvents(
          { deletionRequest: request.name, pageSize: 2, pageToken },
          admin,
        );
        expect(page.auditEvents.length).toBeLessThanOrEqual(2);
        paged.push(...page.auditEvents.map((event) => event.sequence));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(paged).toEqual(byRequest.auditEvents.map((event) => event.sequence));
      const first = await t.client.listAuditEvents(
        { deletionRequest: request.name, pageSize: 1 },
        admin,
      );
      const misused = await callError(
        t.client.listAuditEvents({ pageSize: 1, pageToken: first.nextPageToken }, admin),
      );
      expect(grpcCodeName(misused.code)).toBe('INVALID_ARGUMENT');

      const reads = await t.client.listAuditEvents(
        { deletionRequest: request.name, kind: AuditEventKind.AUDIT_EVENT_KIND_PRIVILEGED_READ },
        admin,
      );
      expect(reads.auditEvents).toHaveLength(1);
      const later = await t.client.listAuditEvents(
        { deletionRequest: request.name, startTime: new Date(t.clock.now().getTime() + 60_000) },
        admin,
      );
      expect(later.auditEvents).toEqual([]);

      // The listings above were audited, by the administrator who made them.
      const listings = await createTrpcClient({
        url: t.trpcUrl,
        token: admin.token,
      }).listAuditEvents.query({ kind: 'PRIVILEGED_READ', pageSize: 1000 });
      expect(
        listings.auditEvents.filter(
          (event) =>
            event.details.operation === 'listAuditEvents' && event.actor.id === 'admin-auditor',
        ).length,
      ).toBeGreaterThanOrEqual(6);
    });
  });
});
