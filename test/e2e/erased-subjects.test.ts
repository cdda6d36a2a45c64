import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { createSubjectPseudonyms } from '../../src/crypto/subject-pseudonyms.js';
import type { SubjectId } from '../../src/domain/ids.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { callError } from '../support/grpc-test-client.js';
import { adminAuth, newSubjectId, participantAuth } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const PSEUDONYM_SECRET = 'test-only-pseudonym-secret-0123456789';

/** The erased-subject ledger: a linked service restored from a backup asks whom to erase again. */
describe('CheckErasedSubjects', () => {
  let t: TestApp;
  let billing: FakeParticipant;
  let analytics: FakeParticipant;

  beforeAll(async () => {
    billing = await startFakeParticipant('billing');
    analytics = await startFakeParticipant('analytics');
    t = await startTestApp({
      PSEUDONYM_SECRET,
      PARTICIPANTS: participantsConfig([billing, analytics], { pseudonymous: ['analytics'] }),
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
    await analytics[Symbol.asyncDispose]();
  });

  it('names the subjects of a batch that were erased, as the service knows them (id or pseudonym)', async () => {
    const erased = await t.scheduled({ prefix: 'erased' });
    // Asked for but not confirmed: nothing is erased.
    const pending = await t.requested({ prefix: 'pending' });
    await t.app.runWorkerPass();
    const never = newSubjectId('never');

    const answer = await t.client.checkErasedSubjects(
      { participant: 'billing', subjectIds: [never, erased.subjectId, pending.subjectId] },
      await participantAuth('billing'),
    );
    expect(answer.erasedSubjects).toEqual([
      {
        subjectId: erased.subjectId,
        deletionRequest: erased.name,
        eraseTime: expect.any(Date) as Date,
      },
    ]);

    // A service given pseudonyms asks with them, and is answered with them.
    const pseudonymOf = createSubjectPseudonyms(PSEUDONYM_SECRET);
    const known = [erased.subjectId, never].map((id) => pseudonymOf(id as SubjectId));
    expect(analytics.subjectIds).toContain(known[0]);
    const pseudonymous = await createTrpcClient({
      url: t.trpcUrl,
      token: (await participantAuth('analytics')).token,
    }).checkErasedSubjects.query({ participant: 'analytics', subjectIds: known });
    expect(pseudonymous.erasedSubjects).toEqual([
      {
        subjectId: known[0],
        deletionRequest: erased.name,
        eraseTime: expect.any(String) as string,
      },
    ]);

    // The ledger holds pseudonyms only, and one entry per subject.
    const ledger = await t.app.connection.collection('erased_subjects').find().toArray();
    expect(JSON.stringify(ledger)).not.toContain(erased.subjectId);
    expect(ledger.map((entry) => entry._id)).toEqual([known[0]]);
  });

  it('answers only a registered linked service, as itself, about at most 1000 subjects', async () => {
    const asked = { participant: 'billing', subjectIds: [newSubjectId('x')] };
    const impostor = await callError(
      t.client.checkErasedSubjects(asked, await participantAuth('analytics')),
    );
    expect(impostor.reason).toBe('NOT_THIS_PARTICIPANT');
    const admin = await adminAuth('admin-x');
    expect(grpcCodeName((await callError(t.client.checkErasedSubjects(asked, admin))).code)).toBe(
      'PERMISSION_DENIED',
    );
    const many = Array.from({ length: 1001 }, (_, n) => `s-${String(n)}`);
    const tooMany = await callError(
      t.client.checkErasedSubjects(
        { participant: 'billing', subjectIds: many },
        await participantAuth('billing'),
      ),
    );
    expect(grpcCodeName(tooMany.code)).toBe('INVALID_ARGUMENT');
    const none = await callError(
      t.client.checkErasedSubjects(
        { participant: 'billing', subjectIds: [] },
        await participantAuth('billing'),
      ),
    );
    expect(grpcCodeName(none.code)).toBe('INVALID_ARGUMENT');
  });
});
