import { createServer, type AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { mongo } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { DeletionRequestRepository } from '../../src/app/ports/deletion-request-repository.js';
import type { DeletionRequest } from '../../src/domain/deletion-request.js';
import type { ParticipantStep } from '../../src/domain/erasure-steps.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { DELETION_REQUESTS } from '../../src/persistence/mongo/deletion-request-model.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import { connectMongo, disconnectMongo } from '../../src/persistence/mongo/mongo-connection.js';
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
import { aDeletionRequest, aRequestId } from '../fixtures/deletion-request-builder.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';
import {
  at,
  DAY,
  erasing,
  ids,
  MINUTE,
  query,
  rejection,
  scheduled,
} from '../contract/deletion-request-repository.contract.js';

// What every repository must do is pinned by test/contract/deletion-request-repository.contract.ts
// (against this adapter and the fake); here: what is particular to MongoDB and FerretDB.

type Connection = Awaited<ReturnType<typeof connectMongo>>;

const uri = inject('mongoUri');
const protocols: readonly WriteProtocol[] = ['compare-and-set', 'version-claims'];
const dbName = `test_repo_${process.pid}_${Date.now()}`;
const names = { accounts: 'accounts', sessions: 'sessions', apiTokens: 'api_tokens' };

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
  });

  it('seals personal data an update changes again: the plain text is never stored', async () => {
    const mine = createMongoDeletionRepository(conn!, cipher, { protocol });
    const request = aDeletionRequest();
    await mine.insert(request);
    const next = { ...request, version: 2, reason: 'changed my mind about the reason' };
    expect(await mine.update(next, request)).toBe(true);
    const stored = JSON.stringify(
      await conn!.collection(DELETION_REQUESTS).findOne({ _id: request.id }),
    );
    expect(stored).not.toContain('changed my mind');
    expect(stored).toContain('pd1:');
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

  it('prunes the older snapshots once the request reached a final state, keeping the claims', async () => {
    const request = aDeletionRequest();
    await repo.insert(request);
    const cancelled = { ...request, state: 'CANCELLED' as const, version: 2 };
    const completedLater = { ...cancelled, reason: 'final', version: 3 };
    expect(await repo.update(cancelled, request)).toBe(true);
    expect(await repo.update(completedLater, cancelled)).toBe(true);
    // The final write prunes the snapshots below it; the claims stay.
    await vi.waitFor(
      async () =>
        expect(
          await conn!
            .collection('deletion_request_versions')
            .countDocuments({ requestId: request.id, snapshot: null }),
        ).toBe(1),
      { timeout: 10_000 },
    );
    expect(
      await conn!.collection('deletion_request_versions').countDocuments({ requestId: request.id }),
    ).toBe(2);
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

describe('requests stored before the retention sweep existed', () => {
  it('are due for the sweep without the fields it added', async () => {
    const old = at(DAY - MINUTE);
    const legacy = aDeletionRequest({ state: 'EXPIRED', updatedAt: old, outbox: [] });
    await repo.insert(legacy);
    await conn!
      .collection(DELETION_REQUESTS)
      .updateOne({ _id: legacy.id }, { $unset: { retention: '', notices: '', outboxDueAt: '' } });

    expect(ids(await repo.findRetentionDue(at(DAY), 20))).toEqual([legacy.id]);
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

  it('stores the reason, the review note and the contact only sealed, in the request and its snapshots', async () => {
    const request = erasing();
    await repo.insert(request);
    const next = { ...request, version: request.version + 1, leaseOwner: 'worker-2' };
    expect(await repo.update(next, request)).toBe(true);

    const stored = await storedText(request.id);
    for (const value of personal) expect(stored).not.toContain(value);
    expect(stored).toContain('pd1:');
  });

  it('stores nothing personal, and no key, for a request that records its key as destroyed', async () => {
    const request = erasing({ state: 'COMPLETED', subjectKeyDestroyedAt: at(DAY) });
    await repo.insert(request);

    expect(
      await keyVault()
        .collection('subject_keys')
        .countDocuments({ _id: request.subjectId as never }),
    ).toBe(0);
    const stored = await storedText(request.id);
    for (const value of personal) expect(stored).not.toContain(value);
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
