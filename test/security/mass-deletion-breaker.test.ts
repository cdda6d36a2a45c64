import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { admitToErasure } from '../../src/app/admin/erasure-breaker.js';
import {
  AuditEventKind,
  SafetyStatus_PauseReason,
} from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { callError } from '../support/grpc-test-client.js';
import { adminAuth, castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** How the given requests stand, and whether their accounts are still there. */
const standing = async (t: TestApp, names: readonly string[]) => {
  const states: Record<string, number> = {};
  let accounts = 0;
  for (const name of names) {
    const request = (await t.app.deps.requests.findById(name.split('/')[1] as never))!;
    states[request.state] = (states[request.state] ?? 0) + 1;
    accounts += await t.count('accounts', { _id: request.subjectId });
  }
  return { states, accounts };
};

const auditedKinds = async (t: TestApp, kind: AuditEventKind) =>
  (await t.client.listAuditEvents({ kind, pageSize: 1000 }, await adminAuth('admin-reader')))
    .auditEvents;

describe('the mass-deletion breaker', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t[Symbol.asyncDispose]();
  });

  it('lets no erasure start past the limit, even with two replicas racing; only an administrator resumes, and both are audited', async () => {
    // Four purges at once in each replica: the pass's one admission holds the limit all the same.
    const limits = { BREAKER_LIMIT: '3', BREAKER_REQUESTER_LIMIT: '100', WORKER_CONCURRENCY: '4' };
    const t = await startTestApp(limits);
    const replica = await startTestApp({ ...limits, MONGODB_DB: t.dbName });
    apps.push(t, replica);
    const names: string[] = [];
    for (let n = 0; n < 6; n += 1) names.push((await t.scheduled({ prefix: 'burst' })).name);

    const passes = await Promise.all([t.app.runWorkerPass(), replica.app.runWorkerPass()]);

    expect(await standing(t, names)).toEqual({
      states: { COMPLETED: 3, SCHEDULED: 3 },
      accounts: 3,
    });
    expect(passes.filter((pass) => pass.tripped)).toHaveLength(1);
    const status = await t.client.getSafetyStatus({}, await adminAuth('admin-reader'));
    expect(status).toMatchObject({
      paused: true,
      reason: SafetyStatus_PauseReason.PAUSE_REASON_TOTAL_LIMIT,
      startedInWindow: 3,
      limit: 3,
      window: { seconds: '3600' },
    });
    // Paused: later passes start nothing either.
    const held = await t.app.runWorkerPass();
    expect(held).toMatchObject({ completed: 0, held: 3, tripped: false });
    expect((await standing(t, names)).states).toEqual({ COMPLETED: 3, SCHEDULED: 3 });

    // Only deletion:admin may resume, and only with a reason.
    const cast = await castFor(newSubjectId('nobody'));
    const denied = await callError(
      t.client.resumeErasures({ justification: 'ticket OPS-77: planned clean-up' }, cast.service),
    );
    expect(grpcCodeName(denied.code)).toBe('PERMISSION_DENIED');
    const terse = await callError(
      t.client.resumeErasures({ justification: 'ok' }, await adminAuth('admin-ana')),
    );
    expect(grpcCodeName(terse.code)).toBe('INVALID_ARGUMENT');
    const resumed = await createTrpcClient({
      url: t.trpcUrl,
      token: (await adminAuth('admin-ana')).token,
    }).resumeErasures.mutate({ justification: 'ticket OPS-77: planned clean-up' });
    expect(resumed).toMatchObject({
      paused: false,
      startedInWindow: 0,
      resumedBy: { kind: 'USER', id: 'admin-ana' },
    });

    await t.app.runWorkerPass();
    expect(await standing(t, names)).toEqual({ states: { COMPLETED: 6 }, accounts: 0 });

    const paused = await auditedKinds(t, AuditEventKind.AUDIT_EVENT_KIND_ERASURES_PAUSED);
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({
      actor: { id: 'system/erasure-breaker' },
      details: { reason: 'TOTAL_LIMIT', limit: '3', requester: '' },
    });
    const resumes = await auditedKinds(t, AuditEventKind.AUDIT_EVENT_KIND_ERASURES_RESUMED);
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toMatchObject({
      actor: { id: 'admin-ana' },
      details: { justification: 'ticket OPS-77: planned clean-up' },
    });
    // Sequences are int64 strings: compared as numbers ('10' < '9' as strings).
    expect(Number(paused[0]!.sequence)).toBeLessThan(Number(resumes[0]!.sequence));
  });

  it('counts exactly when many erasures ask at once, from two replicas', async () => {
    const limits = { BREAKER_LIMIT: '5', BREAKER_REQUESTER_LIMIT: '100' };
    const t = await startTestApp(limits);
    const replica = await startTestApp({ ...limits, MONGODB_DB: t.dbName });
    apps.push(t, replica);
    const request = (await t.scheduled({ prefix: 'racing' })).confirmed;
    const stored = (await t.app.deps.requests.findById(request.name.split('/')[1] as never))!;

    const admissions = await Promise.all(
      Array.from({ length: 24 }, (_, n) =>
        admitToErasure((n % 2 === 0 ? t : replica).app.deps, {
          ...stored,
          id: `racing-${String(n)}` as never,
        }),
      ),
    );

    expect(admissions.filter((admission) => admission === 'ADMITTED')).toHaveLength(5);
    expect(admissions.filter((admission) => admission === 'TRIPPED')).toHaveLength(1);
    const status = await t.client.getSafetyStatus({}, await adminAuth('admin-reader'));
    expect(status.startedInWindow).toBe(5);
  });

  describe('per requester', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ BREAKER_LIMIT: '100', BREAKER_REQUESTER_LIMIT: '2' });
      apps.push(t);
    });

    /** A deletion asked for by `requester`, confirmed with the subject's code and approved. */
    const requestedBy = async (requester: { token: string }) => {
      const subjectId = newSubjectId('bulk');
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const since = t.smtp.messages.length;
      const created = await t.client.requestDeletion({ subjectId }, requester);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
      await t.client.confirmDeletion({ name: created.name, code }, requester);
      await t.client.approveDeletion({ name: created.name }, cast.approver);
      return created.name;
    };

    it('pauses everything when one requester goes past its limit; that requester cannot resume', async () => {
      const bulk = await adminAuth('ops-bulk', 'deletion:request');
      const names = [await requestedBy(bulk), await requestedBy(bulk)];
      await t.app.runWorkerPass();
      expect((await standing(t, names)).states).toEqual({ COMPLETED: 2 });

      const third = await requestedBy(bulk);
      const selfService = (await t.scheduled({ prefix: 'self' })).name;
      await t.app.runWorkerPass();
      // The third of ops-bulk tripped the breaker; the self-service one completed only if it came first.
      expect((await standing(t, [third])).states).toEqual({ SCHEDULED: 1 });
      const status = await t.client.getSafetyStatus({}, await adminAuth('admin-reader'));
      expect(status).toMatchObject({
        paused: true,
        reason: SafetyStatus_PauseReason.PAUSE_REASON_REQUESTER_LIMIT,
        requester: 'ops-bulk',
        requesterLimit: 2,
      });

      const self = await callError(
        t.client.resumeErasures({ justification: 'my own bulk job is fine' }, bulk),
      );
      expect(self.reason).toBe('SELF_RESUME');
      await t.client.resumeErasures(
        { justification: 'checked ops-bulk job, ticket OPS-78' },
        await adminAuth('admin-bo'),
      );
      await t.app.runWorkerPass();
      expect((await standing(t, [third, selfService])).states).toEqual({ COMPLETED: 2 });
    });
  });
});
