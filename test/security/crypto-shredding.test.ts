import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mongoose';
import { verifyAuditChain } from '../../src/app/audit/audit-trail.js';
import { purgeRequest } from '../../src/app/worker/purge-request.js';
import type { DeletionRequestId, SubjectId } from '../../src/domain/ids.js';
import { createMongoDeletionRepository } from '../../src/persistence/mongo/mongo-deletion-repository.js';
import { SUBJECT_KEYS } from '../../src/persistence/mongo/mongo-subject-key-store.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Every document of every collection of a database: what a backup of it holds. */
type Backup = Record<string, Record<string, unknown>[]>;

const backupOf = async (conn: Connection): Promise<Backup> => {
  const db = conn.db;
  if (db === undefined) throw new Error('not connected');
  const backup: Backup = {};
  for (const { name } of await db.listCollections().toArray())
    backup[name] = await db.collection(name).find().toArray();
  return backup;
};

/** Puts a backup back into a fresh database, as a restore would. */
const restore = async (conn: Connection, dbName: string, backup: Backup): Promise<Connection> => {
  const restored = conn.useDb(dbName);
  for (const [name, docs] of Object.entries(backup))
    if (docs.length > 0) await restored.collection(name).insertMany(docs);
  return restored;
};

/**
 * Crypto-shredding (docs/design.md §4): the subject's personal data the service keeps
 * is stored only encrypted with their data key, which lives in a key vault
 * apart from the data and is destroyed at completion, so every copy of the
 * data, backups included, stops yielding it.
 */
describe('crypto-shredding', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RETRY_BASE_MS: '1000', RETRY_CAP_MS: '2000' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  const vault = () => t.app.connection.useDb(`${t.dbName}_keys`, { useCache: true });
  const keyOf = (subjectId: string) =>
    vault()
      .collection<{ _id: string; wrappedKey: string }>(SUBJECT_KEYS)
      .findOne({ _id: subjectId });
  const keyDestroyedEvents = async (id: string) =>
    (await t.app.audit.log.read(0, 10_000)).filter(
      (event) => event.kind === 'KEY_DESTROYED' && event.deletionRequestId === id,
    );

  /** A subject with e-mail and phone asks for deletion with a reason naming them; confirmed, then the purge waits for the mail server. */
  const erasingWithContact = async () => {
    const subjectId = newSubjectId('shred');
    const email = t.emailOf(subjectId);
    const phone = `+4930${String(randomInt(10_000_000, 99_999_999))}`;
    const reason = `Please erase everything about Jane Canary-${String(randomInt(1e6))}`;
    await t.seedAccount({ id: subjectId });
    await t.app.connection
      .collection('accounts')
      .updateOne({ _id: subjectId as never }, { $set: { phone } });
    const cast = await castFor(subjectId);
    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion({ subjectId, reason }, cast.self);
    const code = await t.smtp.waitForCode(email, since);
    await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    const id = created.name.split('/')[1] as DeletionRequestId;
    // Every message to this subject is refused during the pass, the final notice among them, so
    // the purge waits for the mail server. (How many of the subject's notices go before the final
    // one depends on timing: the receipt, and the scheduled notice when its claim came first.)
    // Only this subject's: other requests' retried notices may be due too.
    t.smtp.refuseNext(Number.MAX_SAFE_INTEGER, 451, email);
    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 0, failures: [] });
    t.smtp.refuseNext(0);
    // The key is where this file looks for it, so that its absence later means something.
    expect(await keyOf(subjectId)).not.toBeNull();
    const request = await t.app.deps.requests.findById(id);
    expect(request).toMatchObject({
      state: 'ERASING',
      reason,
      finalNotice: { contact: { email, phone } },
    });
    return { subjectId: subjectId as SubjectId, id, email, phone, reason };
  };

  it('leaves a backup taken before the purge without the subject\u2019s personal data once the key is destroyed', async () => {
    const { subjectId, id, email, phone, reason } = await erasingWithContact();
    const canaries = [email, phone, reason, reason.split(' ').at(-1) ?? reason];

    const backup = await backupOf(t.app.connection);
    const wrappedKey = (await keyOf(subjectId))?.wrappedKey;
    expect(wrappedKey).toMatch(/^local-v1:/);
    const backedUp = backup.deletion_requests?.find((doc) => doc._id === id);
    const sealed = backedUp?.sealed as Record<string, string>;
    expect(Object.keys(sealed).sort()).toEqual(['contact', 'reason']);
    // Before the purge the service's keys open the backed-up ciphertext.
    expect(await t.app.subjectData.cipher.open(subjectId, id, sealed)).toEqual({
      reason,
      contact: JSON.stringify({
        email,
        phone,
        pushToken: null,
        preferredChannel: null,
        locale: 'en',
      }),
    });

    t.clock.advance(2000);
    // The purge destroys the key itself, recorded in the write that completes it.
    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1, shredded: 0, failures: [] });

    // (a) No backed-up document holds the personal data in the clear, nor the subject's key
    // (the account itself was erased before the purge waited for the mail server).
    const backedUpText = JSON.stringify(backup);
    expect(backedUpText).toContain(id);
    for (const canary of canaries) expect(backedUpText).not.toContain(canary);
    expect(backedUpText).not.toContain(wrappedKey);

    // (b) The same ciphertext no longer opens with the service's KEK: the key is gone.
    expect(await keyOf(subjectId)).toBeNull();
    expect(await t.app.subjectData.cipher.open(subjectId, id, sealed)).toBeNull();
    // Restored, the backup reads as the service reads it: the request without the data.
    const restored = await restore(t.app.connection, `${t.dbName}_restored`, backup);
    try {
      const fromBackup = await createMongoDeletionRepository(
        restored,
        t.app.subjectData.cipher,
      ).findById(id);
      expect(fromBackup).toMatchObject({
        state: 'ERASING',
        reason: '',
        finalNotice: { contact: { email: null, phone: null, locale: null } },
      });
    } finally {
      await restored.dropDatabase();
    }

    // (c) The destruction is audited once, with the subject as pseudonym, and the chain holds.
    const events = await keyDestroyedEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]?.subjectPseudonym).toMatch(/^psn_/);
    expect(JSON.stringify(events)).not.toContain(subjectId);
    expect(await verifyAuditChain(t.app.audit.log, t.app.audit.seal)).toMatchObject({
      intact: true,
    });
    expect(await t.app.deps.requests.findById(id)).toMatchObject({
      state: 'COMPLETED',
      reason: '',
      subjectKeyDestroyedAt: expect.any(Date) as Date,
    });
  });

  it('catches up the destruction for a request completed with its key still there, once, however many passes see it', async () => {
    const { subjectId, id } = await erasingWithContact();
    t.clock.advance(2000);
    const request = await t.app.deps.requests.findById(id);
    expect(await purgeRequest(t.app.deps, request!, { owner: 'a-replica' })).toBe('COMPLETED');
    expect(await keyOf(subjectId)).toBeNull();
    // As an earlier version of the service left it: COMPLETED, the key shredded only afterwards.
    await t.app.subjectData.keys.getOrCreate(subjectId);
    await t.app.connection
      .collection('deletion_requests')
      .updateOne(
        { _id: id },
        { $set: { subjectKeyDestroyedAt: null, keyToShred: true }, $inc: { version: 1 } },
      );
    expect(await keyOf(subjectId)).not.toBeNull();

    expect(await t.app.runWorkerPass()).toMatchObject({ shredded: 1, failures: [] });
    expect(await t.app.runWorkerPass()).toMatchObject({ shredded: 0, failures: [] });

    expect(await keyOf(subjectId)).toBeNull();
    expect(await keyDestroyedEvents(id)).toHaveLength(1);
    expect(await t.app.deps.requests.findById(id)).toMatchObject({
      subjectKeyDestroyedAt: expect.any(Date) as Date,
    });
  });

  it('completes without the final notice when the key went before it was sent (undeliverable, not an error), and destroys it again harmlessly', async () => {
    const { subjectId, id, email } = await erasingWithContact();
    await t.app.subjectData.keys.destroy(subjectId);
    t.clock.advance(2000);

    expect(await t.app.runWorkerPass()).toMatchObject({ completed: 1, failures: [] });

    expect(
      t.smtp.messages.filter(
        (mail) => mail.raw.includes('has been deleted') && mail.to.includes(email),
      ),
    ).toHaveLength(0);
    expect(await t.app.deps.requests.findById(id)).toMatchObject({
      state: 'COMPLETED',
      finalNotice: { contact: null, sentAt: null },
    });
    expect(await keyOf(subjectId)).toBeNull();
    expect(await keyDestroyedEvents(id)).toHaveLength(1);
  });
});
