import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeletionRequest_State as State,
  Actor_Kind,
} from '../../src/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('approval of high-risk requests (four eyes)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const confirmedHighRisk = async (roles: readonly string[] = ['admin']) => {
    const subjectId = newSubjectId('owner');
    await t.seedAccount({ id: subjectId, roles });
    const cast = await castFor(subjectId);
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    const confirmed = await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    return { subjectId, cast, created, confirmed };
  };

  it('routes a privileged subject to AWAITING_APPROVAL and leaves the account alone until approved', async () => {
    const { subjectId, cast, created, confirmed } = await confirmedHighRisk();

    expect(created.riskReasons).toEqual(['SUBJECT_PRIVILEGED_ROLE']);
    expect(confirmed.state).toBe(State.STATE_AWAITING_APPROVAL);
    expect(await t.accountStatus(subjectId)).toBe('ACTIVE');

    const approved = await t.client.approveDeletion(
      { name: created.name, etag: confirmed.etag },
      cast.approver,
    );

    expect(approved.state).toBe(State.STATE_SCHEDULED);
    expect(approved.reviewer).toEqual({ kind: Actor_Kind.KIND_USER, id: 'approver-ada' });
    expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
    await t.app.runWorkerPass();
    expect((await t.client.getDeletionRequest({ name: created.name }, cast.self)).state).toBe(
      State.STATE_COMPLETED,
    );
  });

  it('rejects a request; the account stays active', async () => {
    const { subjectId, cast, created } = await confirmedHighRisk();

    const rejected = await t.client.rejectDeletion(
      { name: created.name, reason: 'owner of a live org' },
      cast.approver,
    );

    expect(rejected.state).toBe(State.STATE_REJECTED);
    expect(rejected.reviewNote).toBe('owner of a live org');
    expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
    await expect(
      t.client.approveDeletion({ name: created.name }, cast.secondApprover),
    ).rejects.toMatchObject({
      reason: 'INVALID_STATE',
    });
  });

  it('refuses approval by the requester, even one holding the approve scope', async () => {
    const subjectId = newSubjectId('target');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const requester = {
      token: await mintToken({
        sub: 'support-agent-1',
        scope: 'deletion:request deletion:approve',
      }),
    };
    const created = await t.client.requestDeletion({ subjectId }, requester);
    expect(created.riskReasons).toEqual(['REQUESTED_BY_OTHER']);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    await t.client.confirmDeletion({ name: created.name, code }, cast.self);

    const error = await callError(t.client.approveDeletion({ name: created.name }, requester));

    expect(error.code).toBe(7);
    expect(error.reason).toBe('SELF_APPROVAL');
    expect((await t.client.getDeletionRequest({ name: created.name }, cast.approver)).state).toBe(
      State.STATE_AWAITING_APPROVAL,
    );
  });

  it('refuses approval by the subject, even one holding the approve scope', async () => {
    const subjectId = newSubjectId('approver');
    await t.seedAccount({ id: subjectId, roles: ['owner'] });
    const both = {
      token: await mintToken({ sub: subjectId, scope: 'deletion:self deletion:approve' }),
    };
    const created = await t.client.requestDeletion({ subjectId }, both);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    await t.client.confirmDeletion({ name: created.name, code }, both);

    const error = await callError(t.client.approveDeletion({ name: created.name }, both));

    expect(error.reason).toBe('SELF_APPROVAL');
  });

  it('refuses an approval with a stale etag (ABORTED)', async () => {
    const { cast, created } = await confirmedHighRisk(['owner']);

    const error = await callError(
      t.client.approveDeletion({ name: created.name, etag: created.etag }, cast.approver),
    );

    expect(error.code).toBe(10);
    expect(error.reason).toBe('ETAG_MISMATCH');
  });

  it('lets only one of two racing reviewers decide', async () => {
    const { cast, created } = await confirmedHighRisk();

    const results = await Promise.allSettled([
      t.client.approveDeletion({ name: created.name }, cast.approver),
      t.client.rejectDeletion({ name: created.name, reason: 'no' }, cast.secondApprover),
    ]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const final = await t.client.getDeletionRequest({ name: created.name }, cast.approver);
    expect(final.history.filter((h) => h.fromState === State.STATE_AWAITING_APPROVAL)).toHaveLength(
      1,
    );
  });
});
