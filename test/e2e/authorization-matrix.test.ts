import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import {
  createDeletionClient,
  isDeletionClientError,
  type DeletionClient,
} from '../../clients/trpc/deletion-client.js';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { operationPolicies, operations } from '../../src/domain/authorization.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { rpcOperations, type DeletionRpc } from '../../src/transports/grpc/deletion-handlers.js';
import { createDeletionRouter } from '../../src/transports/trpc/router.js';
import { CallError, type Auth } from '../support/grpc-test-client.js';
import { newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectedAccess, OK, type Outcome } from '../support/authorization-expectations.js';

/** A call of either transport: the 19 RPCs, and the tRPC-only live subscription. */
type Rpc = DeletionRpc | 'watchDeletionRequest';
type Transport = 'grpc' | 'trpc';
type Caller =
  'none' | 'badToken' | 'expired' | 'selfUser' | 'otherUser' | 'service' | 'approver' | 'admin';
type Target = 'own' | 'other';
const UNAUTHENTICATED = 'UNAUTHENTICATED';

const failedStep = {
  status: 'FAILED',
  attempts: 3,
  lastErrorCode: 'UNAVAILABLE',
  nextAttemptAt: null,
  expectedBy: null,
  outcome: null,
  updatedAt: new Date(),
} as const;

const expectedCode = (rpc: Rpc, caller: Caller, target: Target): Outcome => {
  if (caller === 'none' || caller === 'badToken' || caller === 'expired') return UNAUTHENTICATED;
  const [own, other] = expectedAccess[rpc][caller];
  return target === 'own' ? own : other;
};

// One service (and database) per transport, so each half runs on a small collection.
describe.each(['grpc', 'trpc'] as const)('authorization matrix over %s', (transport) => {
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

  if (transport === 'grpc') {
    it('has an explicit policy for every RPC of the service', () => {
      const methods = Object.keys(DeletionServiceService);
      expect(methods).toHaveLength(19);
      expect(Object.keys(rpcOperations).sort()).toEqual(methods.sort());
      for (const operation of Object.values(rpcOperations))
        expect(operationPolicies[operation]).toBeDefined();
    });
  }

  if (transport === 'trpc') {
    it('has one procedure per domain operation, each with a policy and a row here', () => {
      // Procedures are named after the operation (and so the policy) the use case they call
      // authorizes; a procedure without an operation, or an operation without one, fails here.
      const procedures = Object.keys(createDeletionRouter(t.app.service)._def.procedures);
      expect(procedures.sort()).toEqual([...operations].sort());
      for (const operation of operations) expect(operationPolicies[operation]).toBeDefined();
      expect(Object.keys(expectedAccess).sort()).toEqual(procedures.sort());
    });
  }

  /** The RPCs that act on one existing request. */
  const requestRpcs: readonly Rpc[] = [
    'confirmDeletion',
    'approveDeletion',
    'rejectDeletion',
    'extendDeadline',
    'cancelDeletion',
    'undeleteDeletionRequest',
    'getDeletionRequest',
    'watchDeletionRequest',
    'reportErasureOutcome',
    'retryParticipant',
    'resolveParticipant',
    'getErasureReport',
    'getErasurePlan',
  ];

  /** A request of `subjectId` in the state the RPC needs, and the code that was sent. */
  const fixture = async (rpc: Rpc, subjectId: string): Promise<{ name: string; code: string }> => {
    await t.seedAccount({
      id: subjectId,
      roles: rpc === 'approveDeletion' || rpc === 'rejectDeletion' ? ['owner'] : ['member'],
    });
    if (!requestRpcs.includes(rpc)) return { name: '', code: '' };
    // Approval needs a high-risk request: the subject is an organisation owner.
    const self = { token: await mintToken({ sub: subjectId, scope: 'deletion:self' }) };
    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion({ subjectId }, self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    if (['approveDeletion', 'rejectDeletion', 'undeleteDeletionRequest'].includes(rpc)) {
      await t.client.confirmDeletion({ name: created.name, code }, self);
    }
    // A completed request: it has a report, and a watch of it ends after its first event.
    if (rpc === 'getErasureReport' || rpc === 'watchDeletionRequest') {
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
        request,
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
        request,
      );
    }
    return { name: created.name, code };
  };

  const invokeGrpc = async (
    rpc: Rpc,
    target: { subjectId: string; name: string; code: string },
    auth: Auth,
  ): Promise<unknown> => {
    const { client } = t;
    switch (rpc) {
      case 'watchDeletionRequest':
        throw new Error('tRPC only');
      case 'requestDeletion':
        return client.requestDeletion({ subjectId: target.subjectId }, auth);
      case 'confirmDeletion':
        return client.confirmDeletion({ name: target.name, code: target.code }, auth);
      case 'approveDeletion':
        return client.approveDeletion({ name: target.name }, auth);
      case 'rejectDeletion':
        return client.rejectDeletion({ name: target.name, reason: 'matrix' }, auth);
      case 'extendDeadline':
        return client.extendDeadline(
          { name: target.name, reason: 'matrix: complex request' },
          auth,
        );
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
      case 'getErasurePlan':
        return client.getErasurePlan({ name: target.name }, auth);
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
      case 'listAuditEvents':
        return client.listAuditEvents({ pageSize: 1 }, auth);
      case 'verifyAuditLog':
        return client.verifyAuditLog({}, auth);
      case 'getSafetyStatus':
        return client.getSafetyStatus({}, auth);
      case 'resumeErasures':
        return client.resumeErasures({ justification: 'matrix: nothing is paused' }, auth);
      case 'checkErasedSubjects':
        return client.checkErasedSubjects(
          { participant: 'matrix-svc', subjectIds: [target.subjectId] },
          auth,
        );
    }
  };

  /** The first event of a watch (it ends after it: the request is COMPLETED), or its error. */
  const watchOnce = (client: DeletionClient, name: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const subscription = client.watchDeletionRequest.subscribe(
        { name },
        {
          onData: (event) => {
            subscription.unsubscribe();
            resolve(event);
          },
          onError: reject,
        },
      );
    });

  interface Cell {
    readonly subjectId: string;
    readonly name: string;
    readonly code: string;
  }

  const invokeTrpc = async (
    client: DeletionClient,
    rpc: Rpc,
    target: { subjectId: string; name: string; code: string },
  ): Promise<unknown> => {
    switch (rpc) {
      case 'requestDeletion':
        return client.requestDeletion.mutate({ subjectId: target.subjectId });
      case 'confirmDeletion':
        return client.confirmDeletion.mutate({ name: target.name, code: target.code });
      case 'approveDeletion':
        return client.approveDeletion.mutate({ name: target.name });
      case 'rejectDeletion':
        return client.rejectDeletion.mutate({ name: target.name, reason: 'matrix' });
      case 'extendDeadline':
        return client.extendDeadline.mutate({
          name: target.name,
          reason: 'matrix: complex request',
        });
      case 'cancelDeletion':
        return client.cancelDeletion.mutate({ name: target.name });
      case 'undeleteDeletionRequest':
        return client.undeleteDeletionRequest.mutate({ name: target.name });
      case 'getDeletionRequest':
        return client.getDeletionRequest.query({ name: target.name });
      case 'watchDeletionRequest':
        return watchOnce(client, target.name);
      case 'listDeletionRequests':
        return client.listDeletionRequests.query({ subjectId: target.subjectId });
      case 'reportErasureOutcome':
        return client.reportErasureOutcome.mutate({
          name: target.name,
          participant: 'matrix-svc',
          subjectId: target.subjectId,
          outcome: { kind: 'NOTHING_FOUND' },
        });
      case 'getErasureReport':
        return client.getErasureReport.query({ name: target.name });
      case 'getErasurePlan':
        return client.getErasurePlan.query({ name: target.name });
      case 'retryParticipant':
        return client.retryParticipant.mutate({ name: target.name, participant: 'matrix-svc' });
      case 'resolveParticipant':
        return client.resolveParticipant.mutate({
          name: target.name,
          participant: 'matrix-svc',
          justification: 'erased by hand, ticket OPS-1',
          records: 1,
        });
      case 'listAuditEvents':
        return client.listAuditEvents.query({ pageSize: 1 });
      case 'verifyAuditLog':
        return client.verifyAuditLog.query();
      case 'getSafetyStatus':
        return client.getSafetyStatus.query();
      case 'resumeErasures':
        return client.resumeErasures.mutate({ justification: 'matrix: nothing is paused' });
      case 'checkErasedSubjects':
        return client.checkErasedSubjects.query({
          participant: 'matrix-svc',
          subjectIds: [target.subjectId],
        });
    }
  };

  const trpcClient = (auth: Auth, batch: false | { maxItems: number }, counted?: string[]) =>
    createDeletionClient({
      url: t.trpcUrl,
      batch,
      ...(auth ?? {}),
      fetch: (input, init) => {
        counted?.push(init?.method ?? 'GET');
        return fetch(input, init);
      },
    });

  const outcomeOf = (error: unknown): Outcome => {
    if (error instanceof CallError) return grpcCodeName(error.code);
    if (isDeletionClientError(error)) return error.data?.status ?? `HTTP ${error.message}`;
    throw error;
  };

  const invoke = (
    rpc: Rpc,
    target: { subjectId: string; name: string; code: string },
    auth: Auth,
  ): Promise<Outcome> =>
    (transport === 'grpc'
      ? invokeGrpc(rpc, target, auth)
      : invokeTrpc(trpcClient(auth, false), rpc, target)
    ).then(() => OK, outcomeOf);

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

  /** Everything a call about these subjects could change. */
  const snapshot = async (subjects: readonly string[]) => ({
    requests: await t.app.connection
      .collection('deletion_requests')
      .find({ subjectId: { $in: subjects } })
      .sort({ _id: 1 })
      .toArray(),
    accounts: await t.app.connection
      .collection('accounts')
      .find({ _id: { $in: subjects as never[] } })
      .sort({ _id: 1 })
      .toArray(),
    sessions: await t.count('sessions', { subjectId: { $in: subjects } }),
    mails: t.smtp.messages.length,
  });

  const rpcsOf = (transport: Transport): Rpc[] =>
    transport === 'grpc' ? (Object.keys(rpcOperations) as Rpc[]) : ([...operations] as Rpc[]);
  /**
   * Every role on every operation is held to the table on the domain service
   * (test/unit/app/authorization-matrix.test.ts). Here each RPC of the
   * transport: refused UNAUTHENTICATED without valid credentials (before
   * anything is read), and, for a user on their own subject and an
   * administrator on another's, the table's answer as the wire carries it.
   */
  const cells = rpcsOf(transport).flatMap((rpc) => [
    ...(['none', 'badToken', 'expired'] as const).map((caller) => ({
      rpc,
      caller,
      target: 'own' as const,
    })),
    { rpc, caller: 'selfUser' as const, target: 'own' as const },
    { rpc, caller: 'admin' as const, target: 'other' as const },
  ]);

  it.each(cells)('$rpc by $caller on the $target subject', async ({ rpc, caller, target }) => {
    const selfSubject = newSubjectId('self');
    const subjectId = target === 'own' ? selfSubject : newSubjectId('other');
    const unauthenticated = expectedCode(rpc, caller, target) === UNAUTHENTICATED;
    // Refused before anything is read: no request needs to exist.
    const made = unauthenticated
      ? { name: `deletionRequests/${randomUUID()}`, code: '123456' }
      : await fixture(rpc, subjectId);
    if (target === 'other') await t.seedAccount({ id: selfSubject });
    const auth = await authOf(caller, selfSubject);
    const before = await snapshot([subjectId, selfSubject]);

    const outcome = await invoke(rpc, { subjectId, ...made }, auth);

    expect(outcome).toBe(expectedCode(rpc, caller, target));
    if (outcome !== OK) expect(await snapshot([subjectId, selfSubject])).toEqual(before);
  });

  /** What a refused call must not have changed: its request, or the subject's requests. */
  const stateOf = async (cell: { name: string; subjectId: string }) =>
    cell.name === ''
      ? t.count('deletion_requests', { subjectId: cell.subjectId })
      : t.app.connection
          .collection('deletion_requests')
          .findOne({ _id: cell.name.split('/')[1] as never });

  const runBatch = async (auth: Auth, made: readonly (Cell & { rpc: Rpc })[]) => {
    const before = await Promise.all(made.map(stateOf));
    const requests: string[] = [];
    const client = trpcClient(auth, { maxItems: 50 }, requests);
    const outcomes = await Promise.all(
      made.map((cell) => invokeTrpc(client, cell.rpc, cell).then(() => OK, outcomeOf)),
    );
    const after = await Promise.all(made.map(stateOf));
    return {
      requests: requests.sort(),
      outcomes: Object.fromEntries(made.map((cell, i) => [cell.rpc, outcomes[i]])),
      unchanged: outcomes.flatMap((outcome, i) =>
        outcome === OK ? [] : [JSON.stringify(before[i]) === JSON.stringify(after[i])],
      ),
    };
  };

  const batchRpcs = (): Rpc[] => rpcsOf('trpc').filter((rpc) => rpc !== 'watchDeletionRequest');

  // Every procedure at once, each on its own subject's request: one GET for the queries,
  // one POST for the mutations, each call decided on its own.
  if (transport === 'trpc') {
    it.each(['expired', 'otherUser', 'admin'] as const)(
      'batch: every procedure at once by %s',
      async (caller) => {
        const selfSubject = newSubjectId('self');
        await t.seedAccount({ id: selfSubject });
        const made = [];
        for (const rpc of batchRpcs()) {
          const subjectId = newSubjectId('other');
          made.push({ rpc, subjectId, ...(await fixture(rpc, subjectId)) });
        }

        const batch = await runBatch(await authOf(caller, selfSubject), made);

        expect(batch.requests).toEqual(['GET', 'POST']);
        expect(batch.outcomes).toEqual(
          Object.fromEntries(batchRpcs().map((rpc) => [rpc, expectedCode(rpc, caller, 'other')])),
        );
        expect(batch.unchanged.every(Boolean)).toBe(true);
      },
    );
  }

  // A subject has one active request, so on their own account a user's batch mixes
  // allowed and forbidden calls on that one request.
  if (transport === 'trpc') {
    it('batch: a user on their own request, allowed and forbidden calls mixed', async () => {
      const subjectId = newSubjectId('self');
      const { name, code } = await fixture('confirmDeletion', subjectId);
      const rpcs: Rpc[] = [
        'getDeletionRequest',
        'listDeletionRequests',
        'confirmDeletion',
        'approveDeletion',
        'rejectDeletion',
        'retryParticipant',
        'resolveParticipant',
        'reportErasureOutcome',
      ];

      const batch = await runBatch(
        await authOf('selfUser', subjectId),
        rpcs.map((rpc) => ({ rpc, subjectId, name, code })),
      );

      expect(batch.requests).toEqual(['GET', 'POST']);
      expect(batch.outcomes).toEqual(
        Object.fromEntries(rpcs.map((rpc) => [rpc, expectedCode(rpc, 'selfUser', 'own')])),
      );
      // Only the allowed confirm changed the request: no review, no participant touched.
      const after = await t.client.getDeletionRequest({ name }, await authOf('admin', subjectId));
      expect(after.history.map((change) => [change.fromState, change.toState])).toEqual([
        [1, 3], // REQUESTED → SCHEDULED
      ]);
      expect([after.reviewer, after.participants]).toEqual([undefined, []]);
    });
  }
});
