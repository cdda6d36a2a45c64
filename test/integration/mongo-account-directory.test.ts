import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AccountDirectory } from '../../src/app/ports/account-directory.js';
import { DomainError } from '../../src/domain/domain-error.js';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import { createLocalKeyEncryptionKey } from '../../src/crypto/local-key-encryption-key.js';
import { createSubjectCipher } from '../../src/crypto/subject-cipher.js';
import {
  createMongoAccountDirectory,
  DELETE_BATCH,
  sealAccountContact,
} from '../../src/persistence/mongo/mongo-account-directory.js';
import { createMongoSubjectKeyStore } from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { connectMongo, disconnectMongo } from '../../src/persistence/mongo/mongo-connection.js';
import { aSubjectId } from '../fixtures/deletion-request-builder.js';

type Connection = Awaited<ReturnType<typeof connectMongo>>;

const uri = inject('mongoUri');
const dbName = `test_accounts_${process.pid}_${Date.now()}`;
const names = { accounts: 'accounts', sessions: 'sessions', apiTokens: 'api_tokens' };

let conn: Connection | undefined;
let directory: AccountDirectory;

const db = (): Connection => {
  if (conn === undefined) throw new Error('not connected');
  return conn;
};

/** An active account with two sessions and one API token. */
const anAccount = async (fields: Record<string, unknown> = {}): Promise<SubjectId> => {
  const subjectId = aSubjectId();
  await db()
    .collection(names.accounts)
    .insertOne({
      _id: subjectId,
      roles: ['member'],
      flagged: false,
      status: 'ACTIVE',
      ...fields,
    } as never);
  await db()
    .collection(names.sessions)
    .insertMany([
      { subjectId, device: 'laptop' },
      { subjectId, device: 'phone' },
    ]);
  await db().collection(names.apiTokens).insertOne({ subjectId, label: 'cli' });
  return subjectId;
};

const stored = (subjectId: string) =>
  db()
    .collection(names.accounts)
    .findOne({ _id: subjectId as never });
const owned = async (subjectId: string) => ({
  sessions: await db().collection(names.sessions).countDocuments({ subjectId }),
  apiTokens: await db().collection(names.apiTokens).countDocuments({ subjectId }),
});

const keys = () =>
  createMongoSubjectKeyStore(db(), createLocalKeyEncryptionKey('test-kek-0123456789abcdef'));
const cipher = () => createSubjectCipher(keys());

beforeAll(async () => {
  conn = await connectMongo({ uri, dbName });
  await migrate(conn, names);
  directory = createMongoAccountDirectory(conn, names, cipher());
});

afterAll(async () => {
  if (conn === undefined) return;
  await conn.dropDatabase();
  await disconnectMongo(conn);
});

const byRequest = 'req-suspender' as DeletionRequestId;

// What every account directory must do is pinned by test/contract/account-directory.contract.ts
// (against this adapter and the fake); here: how MongoDB keeps it, and its failures.

describe('createMongoAccountDirectory', () => {
  it('records which request deactivated the account and when, keeps the first, and clears both on restore', async () => {
    const subjectId = await anAccount();
    await directory.suspend(subjectId, byRequest);
    const first = await stored(subjectId);
    expect(first).toMatchObject({ status: 'DEACTIVATED', deactivatedBy: byRequest });
    expect(first?.deactivatedAt).toBeInstanceOf(Date);
    await directory.suspend(subjectId, 'req-later' as DeletionRequestId);
    expect(await stored(subjectId)).toEqual(first);

    await directory.restore(subjectId, byRequest);
    const account = await stored(subjectId);
    expect(account).toMatchObject({ status: 'ACTIVE' });
    expect(account).not.toHaveProperty('deactivatedAt');
    expect(account).not.toHaveProperty('deactivatedBy');
  });

  it('erases more sessions than one delete takes, in batches, and counts every one', async () => {
    const subjectId = await anAccount();
    const bystander = await anAccount();
    const many = 2 * DELETE_BATCH + 5;
    for (let from = 0; from < many; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, many - from) }, (_, i) => ({
        subjectId,
        n: from + i,
      }));
      await db().collection(names.sessions).insertMany(batch);
    }
    // Ids of another type sort apart from the driver's ObjectIds: each batch still makes progress.
    await db()
      .collection(names.apiTokens)
      .insertMany([
        { _id: 'token-a' as never, subjectId },
        { _id: 7 as never, subjectId },
      ]);
    expect(await directory.erase(subjectId)).toEqual({
      accounts: 1,
      sessions: many + 2,
      apiTokens: 3,
    });
    expect(await owned(subjectId)).toEqual({ sessions: 0, apiTokens: 0 });
    expect(await owned(bystander)).toEqual({ sessions: 2, apiTokens: 1 });
  }, 120_000);

  it('answers UNAVAILABLE once its connection is gone', async () => {
    const gone = await connectMongo({ uri, dbName, serverSelectionTimeoutMS: 300 });
    const cut = createMongoAccountDirectory(gone, names, cipher());
    await disconnectMongo(gone);
    for (const call of [
      () => cut.find(aSubjectId()),
      () => cut.suspend(aSubjectId(), byRequest),
      () => cut.erase(aSubjectId()),
    ]) {
      const error = await call().then(
        () => new Error('expected a rejection'),
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE' });
    }
  });
});

describe('contact data in the directory', () => {
  it('is stored only sealed under the subject’s key, read back opened, and gone with the key', async () => {
    const subjectId = aSubjectId();
    const contact = {
      email: `${subjectId}@mail.test`,
      phone: '+4915100000000',
      pushToken: 'tok-1',
    };
    const doc = await sealAccountContact(cipher(), { _id: subjectId, ...contact });
    await db()
      .collection(names.accounts)
      .insertOne({ ...doc, roles: ['member'], flagged: false, status: 'ACTIVE' } as never);

    const raw = JSON.stringify(await stored(subjectId));
    for (const value of Object.values(contact)) expect(raw).not.toContain(value);
    expect(await directory.find(subjectId)).toMatchObject(contact);

    await keys().destroy(subjectId);
    expect(await directory.find(subjectId)).toMatchObject({
      subjectId,
      email: null,
      phone: null,
      pushToken: null,
    });
  });

  it('still reads an account a writer stored in plain', async () => {
    const subjectId = await anAccount({ email: 'plain@mail.test' });
    expect((await directory.find(subjectId))?.email).toBe('plain@mail.test');
  });
});
