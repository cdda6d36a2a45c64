import { describe, expect, it } from 'vitest';
import { createDeletionService, type DeletionService } from '../../../src/app/deletion-service.js';
import { operations, type Operation } from '../../../src/domain/authorization.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import { deletionRequestName, type SubjectId } from '../../../src/domain/ids.js';
import type { Principal, Scope } from '../../../src/domain/principal.js';
import {
  expectedAccess,
  MATRIX_PARTICIPANT,
  matrixInputs,
  matrixStates,
  OK,
  roles,
  type MatrixTarget,
  type Outcome,
  type Role,
} from '../../support/authorization-expectations.js';
import {
  fakeDeletionDeps,
  fakeParticipants,
  fakePseudonymOf,
  participantSpec,
} from '../../support/fakes/index.js';

// Who may call every use case, on their own subject and on another's, straight on the domain
// service over fakes; test/e2e/authorization-matrix.test.ts holds the transports to the same
// table (authentication, and the codes on the wire).

const participants = fakeParticipants([participantSpec(MATRIX_PARTICIPANT)], fakePseudonymOf);
const deps = fakeDeletionDeps({ participants, policy: { gracePeriodMs: 86_400_000 } });
const service: DeletionService = createDeletionService(deps);
const { fakes } = deps;

let counter = 0;
const newSubject = (prefix: string): SubjectId =>
  `${prefix}-${String((counter += 1))}` as SubjectId;

const principal = (
  actor: Principal['actor'],
  scopes: readonly Scope[],
  ownSubjectId: string | null = null,
): Principal => ({ actor, scopes: new Set(scopes), ownSubjectId, authTime: null, amr: [] });

const principalOf = (role: Role, selfSubject: SubjectId): Principal => {
  switch (role) {
    case 'selfUser':
      return principal({ kind: 'USER', id: selfSubject }, ['deletion:self'], selfSubject);
    case 'otherUser': {
      const stranger = newSubject('stranger');
      return principal({ kind: 'USER', id: stranger }, ['deletion:self'], stranger);
    }
    case 'service':
      return principal({ kind: 'SERVICE', id: 'svc-matrix' }, [
        'deletion:request',
        'deletion:read',
      ]);
    case 'approver':
      return principal({ kind: 'USER', id: 'approver-matrix' }, [
        'deletion:approve',
        'deletion:read',
      ]);
    case 'admin':
      return principal({ kind: 'USER', id: 'admin-matrix' }, ['deletion:admin']);
  }
};

const step = (status: 'FAILED' | 'ACCEPTED') => ({
  status,
  attempts: 3,
  lastErrorCode: status === 'FAILED' ? 'UNAVAILABLE' : null,
  nextAttemptAt: null,
  expectedBy: status === 'ACCEPTED' ? new Date(fakes.clock.now().getTime() + 3_600_000) : null,
  outcome: null,
  updatedAt: fakes.clock.now(),
});

/** Moves a request to a state the use cases cannot reach without a worker (as the worker would). */
const force = async (request: DeletionRequest, change: Partial<DeletionRequest>) => {
  const next = { ...request, ...change, version: request.version + 1 } as DeletionRequest;
  expect(await deps.requests.update(next, request)).toBe(true);
};

/** A request of `subjectId` in the state the operation needs, and its code. */
const fixture = async (operation: Operation, subjectId: SubjectId) => {
  const state = matrixStates[operation];
  // Approval needs a high-risk request: the subject is an organisation owner.
  const roles = state === 'AWAITING_APPROVAL' ? ['owner'] : ['member'];
  fakes.accounts.seed({ subjectId, email: `${subjectId}@mail.test`, roles });
  if (state === undefined) return { name: '', code: '' };
  const self = principalOf('selfUser', subjectId);
  const created = await service.requestDeletion(self, { subjectId });
  await deps.afterwards.settled();
  const name = deletionRequestName(created.id);
  const code = fakes.notifier.codeFor(created.id) ?? '';
  if (state === 'AWAITING_APPROVAL' || state === 'SCHEDULED')
    await service.confirmDeletion(self, { name, code });
  const stored = (await deps.requests.findById(created.id))!;
  if (state === 'COMPLETED') {
    const report = { payload: '{}', signature: 'c2ln', keyId: 'k', algorithm: 'Ed25519' as const };
    await force(stored, { state: 'COMPLETED', report });
  }
  if (state === 'ERASING')
    await force(stored, { state, participants: { [MATRIX_PARTICIPANT]: step('ACCEPTED') } });
  if (state === 'NEEDS_ATTENTION')
    await force(stored, { state, participants: { [MATRIX_PARTICIPANT]: step('FAILED') } });
  return { name, code };
};

/** Calls the use case with the matrix's input for it (the e2e matrix sends the same). */
const invoke = async (operation: Operation, caller: Principal, target: MatrixTarget) => {
  const input = matrixInputs[operation](target);
  if (operation === 'watchDeletionRequest') {
    const stop = new AbortController();
    const events = await service.watchDeletionRequest(caller, input as never, stop.signal);
    stop.abort();
    return events;
  }
  const useCase = service[operation] as (principal: Principal, input: unknown) => Promise<unknown>;
  return useCase(caller, input);
};

const outcomeOf = (error: unknown): Outcome => {
  if (DomainError.is(error)) return error.code;
  throw error;
};

/** Everything a call about these subjects could change. */
const snapshot = async (subjects: readonly SubjectId[]) => ({
  requests: await Promise.all(
    subjects.map(async (subjectId) =>
      deps.requests.list({
        subjectId,
        limit: 10,
        state: undefined,
        jurisdiction: undefined,
        linkedService: undefined,
        linkedServiceStep: undefined,
        deadlineBefore: undefined,
        after: undefined,
      }),
    ),
  ),
  accounts: subjects.map((subjectId) => [
    fakes.accounts.isActive(subjectId),
    fakes.accounts.owned(subjectId),
  ]),
  delivered: fakes.notifier.delivered.length,
  audit: fakes.auditLog.events().length,
});

describe('authorization of every use case, by role and subject', () => {
  it('has a row for every operation of the service', () => {
    expect(Object.keys(expectedAccess).sort()).toEqual([...operations].sort());
    expect(Object.keys(service).sort()).toEqual([...operations].sort());
  });

  const cells = operations.flatMap((operation) =>
    roles.flatMap((role) =>
      (['own', 'other'] as const).map((target) => ({ operation, role, target })),
    ),
  );

  it.each(cells)(
    '$operation by $role on the $target subject',
    async ({ operation, role, target }) => {
      const selfSubject = newSubject('self');
      const subjectId = target === 'own' ? selfSubject : newSubject('other');
      const made = await fixture(operation, subjectId);
      if (target === 'other')
        fakes.accounts.seed({ subjectId: selfSubject, email: 'self@mail.test' });
      const caller = principalOf(role, selfSubject);
      await deps.afterwards.settled();
      await deps.audit.outbox.appended();
      const before = await snapshot([subjectId, selfSubject]);

      const outcome = await invoke(operation, caller, { subjectId, ...made }).then(
        () => OK,
        outcomeOf,
      );

      const [own, other] = expectedAccess[operation][role];
      expect(outcome).toBe(target === 'own' ? own : other);
      if (outcome !== OK) {
        await deps.afterwards.settled();
        await deps.audit.outbox.appended();
        expect(await snapshot([subjectId, selfSubject])).toEqual(before);
      }
    },
  );
});
