import { describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/app/audit/audit-trail.js';
import { createDeletionService } from '../../src/app/deletion-service.js';
import { runWorkerPass } from '../../src/app/worker/run-worker-pass.js';
import type { SubjectId } from '../../src/domain/ids.js';
import type { Principal } from '../../src/domain/principal.js';
import {
  fakeDeletionDeps,
  fakeParticipants,
  fakePseudonymOf,
  participantSpec,
} from '../support/fakes/index.js';

// The fakes together: the use cases run on fakeDeletionDeps as on the real ports, without a database.

const selfOf = (subjectId: SubjectId): Principal => ({
  actor: { kind: 'USER', id: subjectId },
  scopes: new Set(['deletion:self']),
  ownSubjectId: subjectId,
  authTime: null,
  amr: [],
});

describe('fakeDeletionDeps', () => {
  it('runs a deletion from request to erasure: code, suspension, grace period, purge, shredding, audit', async () => {
    const participants = fakeParticipants([participantSpec('billing')], fakePseudonymOf);
    const deps = fakeDeletionDeps({ participants });
    const { fakes } = deps;
    const subjectId = 'subject-on-fakes' as SubjectId;
    fakes.accounts.seed({ subjectId, email: 'someone@mail.test', sessions: 2, apiTokens: 1 });
    const service = createDeletionService(deps);
    const self = selfOf(subjectId);

    const created = await service.requestDeletion(self, { subjectId, reason: 'leaving' });
    await deps.afterwards.settled();
    const code = fakes.notifier.codeFor(created.id);
    expect(code).toBe(fakes.codes.generated[0]);
    const confirmed = await service.confirmDeletion(self, {
      name: `deletionRequests/${created.id}`,
      code,
    });
    expect(confirmed.state).toBe('SCHEDULED');
    await deps.afterwards.settled();
    await runWorkerPass(deps, 'worker-1');
    expect(fakes.accounts.isActive(subjectId)).toBe(false);
    expect(fakes.accounts.owned(subjectId)).toEqual({ sessions: 0, apiTokens: 0 });
    expect(participants.calls.map(({ name, phase }) => [name, phase])).toEqual([
      ['billing', 'suspend'],
    ]);

    // Nothing is purged before the grace period is over; then the next pass erases.
    expect((await runWorkerPass(deps, 'worker-1')).completed).toBe(0);
    fakes.clock.advance(deps.policy.gracePeriodMs);
    expect((await runWorkerPass(deps, 'worker-1')).completed).toBe(1);

    const completed = await deps.requests.findById(created.id);
    expect(completed).toMatchObject({ state: 'COMPLETED', reason: '' });
    expect(completed?.subjectKeyDestroyedAt).toEqual(fakes.clock.now());
    expect(await fakes.keys.find(subjectId)).toBeNull();
    expect(await fakes.accounts.find(subjectId)).toBeNull();
    expect(participants.calls.map(({ phase }) => phase)).toEqual(['suspend', 'erase']);
    expect(await deps.ledger.find([fakePseudonymOf(subjectId)])).toMatchObject([
      { deletionRequestId: created.id },
    ]);
    await deps.audit.outbox.appended();
    const kinds = fakes.auditLog.events().map(({ kind }) => kind);
    expect(kinds.filter((kind) => kind === 'STATE_CHANGED')).toHaveLength(3);
    expect(kinds).toContain('KEY_DESTROYED');
    expect(await verifyAuditChain(deps.audit.log, deps.audit.seal)).toMatchObject({
      intact: true,
    });
    expect(fakes.afterwardsFailures).toEqual([]);
  });

  it('expires an unconfirmed request once the fake clock passes its code’s validity', async () => {
    const deps = fakeDeletionDeps({ policy: { codeTtlMs: 60_000 } });
    const subjectId = 'subject-who-forgot' as SubjectId;
    deps.fakes.accounts.seed({ subjectId, email: 'forgetful@mail.test' });
    const created = await createDeletionService(deps).requestDeletion(selfOf(subjectId), {
      subjectId,
    });

    expect((await runWorkerPass(deps, 'worker-1')).expired).toBe(0);
    deps.fakes.clock.advance(60_000);
    expect((await runWorkerPass(deps, 'worker-1')).expired).toBe(1);
    expect((await deps.requests.findById(created.id))?.state).toBe('EXPIRED');
    expect(await deps.requests.findActiveBySubject(subjectId)).toBeNull();
  });
});
