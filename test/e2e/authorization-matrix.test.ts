import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { operationPolicies } from '../../src/domain/authorization.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { rpcOperations, type DeletionRpc } from '../../src/transports/grpc/deletion-handlers.js';
import { CallError, type Auth } from '../support/grpc-test-client.js';
import { newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

type Rpc = DeletionRpc;
type Caller =
  'none' | 'badToken' | 'expired' | 'selfUser' | 'otherUser' | 'service' | 'approver' | 'admin';
type Target = 'own' | 'other';
const OK = 0;
const UNAUTHENTICATED = 16;
const DENIED = 7;

const callers: readonly Caller[] = [
  'none',
  'badToken',
  'expired',
  'selfUser',
  'otherUser',
  'service',
  'approver',
  'admin',
];

/** Expected status per RPC and caller, for [own subject, other subject]. */
const expected: Record<
  Rpc,
  Record<'selfUser' | 'otherUser' | 'service' | 'approver' | 'admin', [number, number]>
> = {
  requestDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  confirmDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [DENIED, DENIED],
  },
  approveDeletion: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [OK, OK],
    admin: [DENIED, DENIED],
  },
  rejectDeletion: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [OK, OK],
    admin: [DENIED, DENIED],
  },
  cancelDeletion: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  undeleteDeletionRequest: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  getDeletionRequest: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  listDeletionRequests: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  // Only a linked service's own identity may report (test/e2e/participant-operations.test.ts).
  reportErasureOutcome: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [DENIED, DENIED],
  },
  retryParticipant: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
  getErasureReport: {
    selfUser: [OK, DENIED],
    otherUser: [DENIED, DENIED],
    service: [OK, OK],
    approver: [OK, OK],
    admin: [OK, OK],
  },
  resolveParticipant: {
    selfUser: [DENIED, DENIED],
    otherUser: [DENIED, DENIED],
    service: [DENIED, DENIED],
    approver: [DENIED, DENIED],
    admin: [OK, OK],
  },
};

const failedStep = {
  status: 'FAILED',
  attempts: 3,
  lastErrorCode: 'UNAVAILABLE',
  nextAttemptAt: null,
  expectedBy: null,
  outcome: null,
  updatedAt: new Date(),
} as const;

const expectedCode = (rpc: Rpc, caller: Caller, target: Target): number => {
  if (caller === 'none' || caller === 'badToken' || caller === 'expired') return UNAUTHENTICATED;
  const [own, other] = expected[rpc][caller];
  return target === 'own' ? own : other;
};

describe('authorization matrix: every RPC × caller × subject', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '86400',
      PARTICIPANTS: JSON.stringify([
        { name: 'matrix-svc', address: '127.0.0.1:9', phases: ['erase'] },
      ]),
    });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('has an explicit policy for every RPC of the service', () => {
    const methods = Object.keys(DeletionServiceService);
    expect(methods).toHaveLength(12);
    expect(Object.keys(rpcOperations).sort()).toEqual(methods.sort());
    for (const operation of Object.values(rpcOperations))
      expect(operationPolicies[operation]).toBeDefined();
  });

  /** A request of `subjectId` in the state the RPC needs, and the code that was sent. */
  const fixture = async (rpc: Rpc, subjectId: string): Promise<{ name: string; code: string }> => {
    await t.seedAccount({
      id: subjectId,
      roles: rpc === 'approveDeletion' || rpc === 'rejectDeletion' ? ['owner'] : ['member'],
    });
    if (rpc === 'requestDeletion' || rpc === 'listDeletionRequests') return { name: '', code: '' };
    // Approval needs a high-risk request: the subject is an organisation owner.
    const self = { token: await mintToken({ sub: subjectId, scope: 'deletion:self' }) };
    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion({ subjectId }, self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    if (['approveDeletion', 'rejectDeletion', 'undeleteDeletionRequest'].includes(rpc)) {
      await t.client.confirmDeletion({ name: created.name, code }, self);
    }
    if (rpc === 'getErasureReport') {
      const request = (await t.app.deps.requests.findById(
        created.name.split('/')[1] as DeletionRequestId,
      ))!;
      const report = {
        payload: '{}',
        signature: 'c2ln',
        keyId: 'k',
        algorithm: 'Ed25519' as const,
      };
      await t.app.deps.requests.update(
        { ...request, state: 'COMPLETED', report, version: request.version + 1 },
        request.version,
      );
    }
    if (['reportErasureOutcome', 'retryParticipant', 'resolveParticipant'].includes(rpc)) {
      // A purge in progress: stuck on a failed step, or waiting for an ACCEPTED one's report.
      const request = (await t.app.deps.requests.findById(
        created.name.split('/')[1] as DeletionRequestId,
      ))!;
      const waiting = rpc === 'reportErasureOutcome';
      const step = waiting
        ? {
            ...failedStep,
            status: 'ACCEPTED' as const,
            expectedBy: new Date(Date.now() + 3_600_000),
          }
        : failedStep;
      await t.app.deps.requests.update(
        {
          ...request,
          state: waiting ? 'ERASING' : 'NEEDS_ATTENTION',
          participants: { 'matrix-svc': step },
          version: request.version + 1,
        },
        request.version,
      );
    }
    return { name: created.name, code };
  };

  const invoke = async (
    rpc: Rpc,
    target: { subjectId: string; name: string; code: string },
    auth: Auth,
  ): Promise<unknown> => {
    const { client } = t;
    switch (rpc) {
      case 'requestDeletion':
        return client.requestDeletion({ subjectId: target.subjectId }, auth);
      case 'confirmDeletion':
        return client.confirmDeletion({ name: target.name, code: target.code }, auth);
      case 'approveDeletion':
        return client.approveDeletion({ name: target.name }, auth);
      case 'rejectDeletion':
        return client.rejectDeletion({ name: target.name, reason: 'matrix' }, auth);
      case 'cancelDeletion':
        return client.cancelDeletion({ name: target.name }, auth);
      case 'undeleteDeletionRequest':
        return client.undeleteDeletionRequest({ name: target.name }, auth);
      case 'getDeletionRequest':
        return client.getDeletionRequest({ name: target.name }, auth);
      case 'listDeletionRequests':
        return client.listDeletionRequests({ subjectId: target.subjectId }, auth);
      case 'reportErasureOutcome':
        return client.reportErasureOutcome(
          {
            name: target.name,
            participant: 'matrix-svc',
            subjectId: target.subjectId,
            outcome: { $case: 'nothingFound', value: {} },
          },
          auth,
        );
      case 'getErasureReport':
        return client.getErasureReport({ name: target.name }, auth);
      case 'retryParticipant':
        return client.retryParticipant({ name: target.name, participant: 'matrix-svc' }, auth);
      case 'resolveParticipant':
        return client.resolveParticipant(
          {
            name: target.name,
            participant: 'matrix-svc',
            justification: 'erased by hand, ticket OPS-1',
            records: '1',
          },
          auth,
        );
    }
  };

  const authOf = async (caller: Caller, selfSubject: string): Promise<Auth> => {
    switch (caller) {
      case 'none':
        return null;
      case 'badToken':
        return {
          token: await mintToken({
            sub: selfSubject,
            scope: 'deletion:self deletion:admin',
            secret: 'a-different-secret-0123456789abcdefgh',
          }),
        };
      case 'expired':
        return {
          token: await mintToken({
            sub: selfSubject,
            scope: 'deletion:self deletion:admin',
            expiresInSeconds: -120,
          }),
        };
      case 'selfUser':
        return { token: await mintToken({ sub: selfSubject, scope: 'deletion:self' }) };
      case 'otherUser':
        return {
          token: await mintToken({ sub: newSubjectId('stranger'), scope: 'deletion:self' }),
        };
      case 'service':
        return {
          token: await mintToken({
            sub: 'svc-matrix',
            scope: 'deletion:request deletion:read',
            service: true,
          }),
        };
      case 'approver':
        return {
          token: await mintToken({
            sub: 'approver-matrix',
            scope: 'deletion:approve deletion:read',
          }),
        };
      case 'admin':
        return { token: await mintToken({ sub: 'admin-matrix', scope: 'deletion:admin' }) };
    }
  };

  const snapshot = async () => ({
    requests: await t.app.connection
      .collection('deletion_requests')
      .find({})
      .sort({ _id: 1 })
      .toArray(),
    accounts: await t.app.connection.collection('accounts').find({}).sort({ _id: 1 }).toArray(),
    sessions: await t.count('sessions'),
    mails: t.smtp.messages.length,
  });

  const rpcs = Object.keys(rpcOperations) as Rpc[];
  const cells = rpcs.flatMap((rpc) =>
    callers.flatMap((caller) =>
      (['own', 'other'] as const).map((target) => ({ rpc, caller, target })),
    ),
  );

  it.each(cells)('$rpc by $caller on the $target subject', async ({ rpc, caller, target }) => {
    const selfSubject = newSubjectId('self');
    const subjectId = target === 'own' ? selfSubject : newSubjectId('other');
    const made = await fixture(rpc, subjectId);
    if (target === 'other') await t.seedAccount({ id: selfSubject });
    const auth = await authOf(caller, selfSubject);
    const before = await snapshot();

    const code = await invoke(rpc, { subjectId, ...made }, auth).then(
      () => OK,
      (error: unknown) => (error instanceof CallError ? error.code : -1),
    );

    expect(code).toBe(expectedCode(rpc, caller, target));
    if (code !== OK) expect(await snapshot()).toEqual(before);
  });
});
