import { describe, expect, it } from 'vitest';
import { createDeletionService } from '../../../src/app/deletion-service.js';
import { runWorkerPass } from '../../../src/app/worker/run-worker-pass.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { deletionRequestName } from '../../../src/domain/ids.js';
import type { Principal } from '../../../src/domain/principal.js';
import { confirmedOnFakes } from '../../support/confirmed-on-fakes.js';
import {
  fakeDeletionDeps,
  fakeParticipants,
  fakePseudonymOf,
  participantFailure,
  participantSpec,
} from '../../support/fakes/index.js';

// The dry run's waits on fakes, where time is the test's: the ones an end-to-end test cannot
// pin (a jittered retry, another worker's lease). test/e2e/erasure-plan.test.ts runs the rest
// over both transports.

const HOUR_MS = 3_600_000;
const admin: Principal = {
  actor: { kind: 'USER', id: 'admin-plan' },
  scopes: new Set(['deletion:admin']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

/** Three linked services, search after billing, over fakes with a one-hour grace period. */
const world = (localErasure: 'first' | 'after-participants' = 'after-participants') => {
  const participants = fakeParticipants(
    [
      participantSpec('crm'),
      participantSpec('billing'),
      participantSpec('search', { after: ['billing'] }),
    ],
    fakePseudonymOf,
  );
  const deps = fakeDeletionDeps({ participants, policy: { gracePeriodMs: HOUR_MS, localErasure } });
  const service = createDeletionService(deps);
  /** A request of a new subject, confirmed, past its grace period. */
  const due = (subjectId: string): Promise<DeletionRequest> =>
    confirmedOnFakes({ deps, service }, subjectId, HOUR_MS);
  const plan = (request: DeletionRequest) =>
    service.getErasurePlan(admin, { name: deletionRequestName(request.id) });
  return { deps, participants, service, due, plan };
};

describe('GetErasurePlan on fakes', () => {
  it('names a failed call’s retry, and calls it once the retry is due', async () => {
    const { deps, participants, due, plan } = world();
    participants.answerErase('billing', participantFailure('UNAVAILABLE', true));
    const request = await due('retrying');
    const failedAt = deps.clock.now();
    await runWorkerPass(deps, 'worker-1');
    // The back-off's jitter is fixed at the middle of its range (fakeDeletionDeps).
    const retryAt = new Date(failedAt.getTime() + Math.floor(deps.policy.retry.baseMs * 0.5));

    const waiting = await plan(request);
    expect(waiting).toMatchObject({ state: 'ERASING', blocker: 'WAITING', startAt: retryAt });
    expect(waiting.calls).toEqual([
      expect.objectContaining({ participant: 'crm', action: 'NONE_ANSWERED', attempts: 1 }),
      {
        participant: 'billing',
        action: 'WAIT_FOR_RETRY',
        attempts: 1,
        time: retryAt,
        waitingFor: [],
        lastErrorCode: 'UNAVAILABLE',
      },
      expect.objectContaining({
        participant: 'search',
        action: 'WAIT_FOR_ORDER',
        waitingFor: ['billing'],
      }),
    ]);

    deps.fakes.clock.set(retryAt);
    const retrying = await plan(request);
    expect(retrying).toMatchObject({ blocker: 'NONE', startAt: null });
    expect(retrying.calls.map((call) => `${call.participant}:${call.action}`)).toEqual([
      'crm:NONE_ANSWERED',
      'billing:CALL',
      'search:WAIT_FOR_ORDER',
    ]);
    // The plan called no one: billing was called once, by the pass.
    expect(
      participants.calls.filter((call) => call.phase === 'erase' && call.name === 'billing'),
    ).toHaveLength(1);
  });

  it('says another worker holds the purge, and lists a service no longer registered as failed', async () => {
    const { deps, due, plan } = world('first');
    const request = await due('leased');
    const leaseUntil = new Date(deps.clock.now().getTime() + 60_000);
    const legacy = {
      status: 'ACCEPTED' as const,
      attempts: 1,
      lastErrorCode: null,
      nextAttemptAt: null,
      expectedBy: new Date(deps.clock.now().getTime() + HOUR_MS),
      outcome: null,
      updatedAt: deps.clock.now(),
    };
    const erasing = {
      ...request,
      state: 'ERASING' as const,
      participants: { legacy },
      leaseOwner: 'worker-2',
      leaseUntil,
      version: request.version + 1,
    };
    expect(await deps.requests.update(erasing, request)).toBe(true);

    const held = await plan(request);
    expect(held).toMatchObject({
      blocker: 'IN_PROGRESS',
      startAt: leaseUntil,
      localErasure: 'first',
      localErasureDone: false,
    });
    // As the purge resumes it: the registry's services join, the unregistered one has failed.
    expect(held.calls.map((call) => [call.participant, call.action, call.lastErrorCode])).toEqual([
      ['crm', 'CALL', null],
      ['billing', 'CALL', null],
      ['search', 'WAIT_FOR_ORDER', null],
      ['legacy', 'NONE_FAILED', 'UNREGISTERED'],
    ]);
    // The dry run wrote nothing.
    expect((await deps.requests.findById(request.id))?.version).toBe(erasing.version);
  });
});
