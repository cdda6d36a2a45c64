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
import type { DeletionRequest } from '../../src/domain/deletion-request.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { rpcOperations, type DeletionRpc } from '../../src/transports/grpc/deletion-handlers.js';
import { createDeletionRouter } from '../../src/transports/trpc/router.js';
import { CallError, type Auth } from '../support/grpc-test-client.js';
import { newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import {
  expectedAccess,
  MATRIX_PARTICIPANT,
  matrixInputs,
  matrixStates,
  OK,
  type MatrixTarget,
  type Outcome,
} from '../support/authorization-expectations.js';

/** A call of either transport: every RPC, and the tRPC-only live subscription. */
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

  /** Moves a request where use cases alone cannot take it without a worker (as the worker would). */
  const force = async (name: string, change: Partial<DeletionRequest>) => {
    const request = (await t.app.deps.requests.findById(name.split('/')[1] as DeletionRequestId))!;
    const next = { ...request, ...change, version: request.version + 1 } as DeletionRequest;
    expect(await t.app.deps.requests.update(next, request)).toBe(true);
  };

  /** A request of `subjectId` in the state the RPC needs (matrixStates), and the code that was sent. */
  const fixture = async (rpc: Rpc, subjectId: string): Promise<{ name: string; code: string }> => {
    const state = matrixStates[rpc];
    // Approval needs a high-risk request: the subject is an organisation owner.
    const roles = state === 'AWAITING_APPROVAL' ? ['owner'] : ['member'];
    await t.seedAccount({ id: subjectId, roles });
    if (state === undefined) return { name: '', code: '' };
    const self = { token: await mintToken({ sub: subjectId, scope: 'deletion:self' }) };
    const since = t.smtp.messages.length;
    const { name } = await t.client.requestDeletion({ subjectId }, self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    if (state === 'AWAITING_APPROVAL' || state === 'SCHEDULED')
      await t.client.confirmDeletion({ name, code }, self);
    // A completed request: it has a report, and a watch of it ends after its first event.
    const report = { payload: '{}', signature: 'c2ln', keyId: 'k', algorithm: 'Ed25519' as const };
    if (state === 'COMPLETED') await force(name, { state, report });
    // A purge in progress waiting for an ACCEPTED step's report, or stuck on a failed one.
    const accepted = { ...failedStep, status: 'ACCEPTED' as const, lastErrorCode: null };
    const expectedBy = new Date(Date.now() + 3_600_000);
    if (state === 'ERASING')
      await force(name, {
        state,
        participants: { [MATRIX_PARTICIPANT]: { ...accepted, expectedBy } },
      });
    if (state === 'NEEDS_ATTENTION')
      await force(name, { state, participants: { [MATRIX_PARTICIPANT]: failedStep } });
    return { name, code };
  };

  /** The matrix's input of an RPC as gRPC takes it: proto field shapes where they differ. */
  const grpcInput = (rpc: DeletionRpc, target: MatrixTarget): unknown => {
    if (rpc === 'reportErasureOutcome')
      return { ...matrixInputs[rpc](target), outcome: { $case: 'nothingFound', value: {} } };
    if (rpc === 'resolveParticipant') return { ...matrixInputs[rpc](target), records: '1' };
    return matrixInputs[rpc](target) ?? {};
  };

  const invokeGrpc = async (rpc: Rpc, target: MatrixTarget, auth: Auth): Promise<unknown> => {
    if (rpc === 'watchDeletionRequest') throw new Error('tRPC only');
    const call = t.client[rpc] as (request: unknown, auth: Auth) => Promise<unknown>;
    return call(grpcInput(rpc, target), auth);
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

  type Cell = MatrixTarget;

  /** Each procedure's kind, as the router declares it: query, mutation or subscription. */
  const procedureKind = (rpc: Rpc): string => {
    const procedures = createDeletionRouter(t.app.service)._def.procedures as Record<
      string,
      { _def: { type: string } }
    >;
    return procedures[rpc]?._def.type ?? 'missing';
  };

  const invokeTrpc = async (
    client: DeletionClient,
    rpc: Rpc,
    target: MatrixTarget,
  ): Promise<unknown> => {
    if (rpc === 'watchDeletionRequest') return watchOnce(client, target.name);
    const input = matrixInputs[rpc](target);
    const procedure = client[rpc] as unknown as {
      query: (input: unknown) => Promise<unknown>;
      mutate: (input: unknown) => Promise<unknown>;
    };
    return procedureKind(rpc) === 'query' ? procedure.query(input) : procedure.mutate(input);
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
