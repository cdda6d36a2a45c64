import { describe, expect, it } from 'vitest';
import { createDeletionService } from '../../../src/app/deletion-service.js';
import { sendOwnerAlerts } from '../../../src/app/notices/send-owner-alerts.js';
import { purgeRequest } from '../../../src/app/worker/purge-request.js';
import { runWorkerPass } from '../../../src/app/worker/run-worker-pass.js';
import { alertKey } from '../../../src/domain/audit-event.js';
import { auditDueAt } from '../../../src/domain/audit-marks.js';
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

const admin: Principal = {
  actor: { kind: 'USER', id: 'admin-alerts' },
  scopes: new Set(['deletion:admin']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

/**
 * billing (payments, with a webhook), search (discovery, no webhook), crm (no
 * owner), ledger (finance, called after billing); one try each.
 */
const world = (policy: { readonly ownerAlertAttempts?: number } = {}) => {
  const once = { maxAttempts: 1 };
  const participants = fakeParticipants(
    [
      participantSpec('billing', {
        ...once,
        owner: { team: 'payments', webhook: 'https://hooks.test/payments' },
      }),
      participantSpec('search', { ...once, owner: { team: 'discovery' } }),
      participantSpec('crm', once),
      participantSpec('ledger', {
        ...once,
        after: ['billing'],
        owner: { team: 'finance', webhook: 'https://hooks.test/finance' },
      }),
    ],
    fakePseudonymOf,
  );
  const deps = fakeDeletionDeps({ participants, policy: { gracePeriodMs: 0 } });
  const alertPolicy = { ...deps.policy.ownerAlerts, maxAttempts: policy.ownerAlertAttempts ?? 3 };
  const withPolicy = { ...deps, policy: { ...deps.policy, ownerAlerts: alertPolicy } };
  const service = createDeletionService(withPolicy);
  const due = (subjectId: string): Promise<DeletionRequest> =>
    confirmedOnFakes({ deps: withPolicy, service }, subjectId, 1000);
  const read = async (request: DeletionRequest): Promise<DeletionRequest> => {
    const current = await deps.requests.findById(request.id);
    if (current === null) throw new Error('request gone');
    return current;
  };
  return { deps: withPolicy, fakes: deps.fakes, participants, service, due, read };
};

const FAIL = participantFailure('UNAVAILABLE', true);

describe('alerts to linked services’ owners, on fakes', () => {
  it('owes the alert in the write that records NEEDS_ATTENTION, and a later pass sends it', async () => {
    const { deps, fakes, participants, due, read } = world();
    participants.answerErase('billing', FAIL);
    const request = await due('owed-then-sent');
    // The purge alone: the process dies before it could send anything.
    expect(await purgeRequest(deps, request, { owner: 'worker-1' })).toBe('NEEDS_ATTENTION');
    const stuck = await read(request);
    expect(stuck.state).toBe('NEEDS_ATTENTION');
    expect(stuck.ownerAlerts).toEqual([
      expect.objectContaining({ participant: 'billing', status: 'OWED', reason: 'UNAVAILABLE' }),
    ]);
    expect(fakes.ownerAlerts.tried).toEqual([]);

    await runWorkerPass(deps, 'worker-2');
    expect(fakes.ownerAlerts.delivered.map((delivery) => delivery.key)).toEqual([
      `${request.id}:billing`,
    ]);
    const [delivery] = fakes.ownerAlerts.delivered;
    expect(delivery?.webhook).toBe('https://hooks.test/payments');
    expect(delivery?.message).toMatchObject({
      deletionRequest: deletionRequestName(request.id),
      linkedService: 'billing',
      team: 'payments',
      state: 'NEEDS_ATTENTION',
      traceId: stuck.history.at(-1)?.traceId,
    });
    expect(JSON.stringify(delivery?.message)).not.toContain(request.subjectId);
    expect((await read(request)).ownerAlerts).toEqual([
      expect.objectContaining({ participant: 'billing', status: 'SENT', attempts: 1 }),
    ]);
    expect(fakes.ownerAlerts.settledAlerts).toEqual([
      expect.objectContaining({ linkedService: 'billing', status: 'SENT', team: 'payments' }),
    ]);
    // Owed to the audit log by the write that recorded it, and appended once.
    await deps.audit.outbox.appended();
    const alerted = fakes.auditLog.events().filter((event) => event.kind === 'OWNER_ALERTED');
    expect(alerted.map((event) => event.key)).toEqual([alertKey(request.id, 'billing')]);
    // The outbox knows it is in; the request's next write records that.
    expect(deps.audit.outbox.known(request.id).alerts).toEqual(['billing']);
    expect(auditDueAt(await read(request))).not.toBeNull();
  });

  it('alerts in the pass that finds the request stuck, one alert per owner', async () => {
    const { deps, fakes, participants, due } = world();
    participants.answerErase('billing', FAIL);
    participants.answerErase('search', FAIL);
    participants.answerErase('crm', FAIL);
    const request = await due('three-stuck');
    const pass = await runWorkerPass(deps, 'worker-1');
    expect(pass.needsAttention).toEqual([request.id]);
    // crm has no owner: only the worker's alert log names it.
    expect(fakes.ownerAlerts.delivered.map((delivery) => delivery.message.linkedService)).toEqual([
      'billing',
    ]);
    expect(
      fakes.ownerAlerts.settledAlerts.map((alert) => `${alert.linkedService}:${alert.status}`),
    ).toEqual(expect.arrayContaining(['billing:SENT', 'search:NO_WEBHOOK']));
    expect(fakes.ownerAlerts.settledAlerts).toHaveLength(2);
  });

  it('tries a failing webhook again after its back-off, with the same key, then gives up', async () => {
    const { deps, fakes, participants, due, read } = world({ ownerAlertAttempts: 3 });
    participants.answerErase('billing', FAIL);
    fakes.ownerAlerts.setDown(true);
    const request = await due('webhook-down');
    await runWorkerPass(deps, 'worker-1');
    expect(fakes.ownerAlerts.tried).toHaveLength(1);
    // Not due yet: a pass at once sends nothing.
    await runWorkerPass(deps, 'worker-1');
    expect(fakes.ownerAlerts.tried).toHaveLength(1);
    for (let pass = 0; pass < 5; pass += 1) {
      fakes.clock.advance(deps.policy.ownerAlerts.capMs);
      await runWorkerPass(deps, 'worker-1');
    }
    expect(fakes.ownerAlerts.tried.map((delivery) => delivery.key)).toEqual(
      Array.from({ length: 3 }, () => `${request.id}:billing`),
    );
    expect(fakes.ownerAlerts.delivered).toEqual([]);
    expect((await read(request)).ownerAlerts).toEqual([
      expect.objectContaining({ status: 'GIVEN_UP', attempts: 3, dueAt: null }),
    ]);
    expect(fakes.ownerAlerts.settledAlerts).toEqual([
      expect.objectContaining({ linkedService: 'billing', status: 'GIVEN_UP', attempts: 3 }),
    ]);
  });

  it('delivers once the webhook is back', async () => {
    const { deps, fakes, participants, due } = world();
    participants.answerErase('billing', FAIL);
    fakes.ownerAlerts.setDown(true);
    await due('webhook-back');
    await runWorkerPass(deps, 'worker-1');
    fakes.ownerAlerts.setDown(false);
    fakes.clock.advance(deps.policy.ownerAlerts.capMs);
    await runWorkerPass(deps, 'worker-1');
    fakes.clock.advance(deps.policy.ownerAlerts.capMs);
    await runWorkerPass(deps, 'worker-1');
    expect(fakes.ownerAlerts.tried).toHaveLength(2);
    expect(fakes.ownerAlerts.delivered).toHaveLength(1);
  });

  it('does not alert a service again after a retry fails again; another service gets its own', async () => {
    const { deps, fakes, participants, service, due, read } = world();
    participants.answerErase('billing', FAIL);
    const request = await due('stuck-twice');
    await runWorkerPass(deps, 'worker-1');
    expect(fakes.ownerAlerts.delivered).toHaveLength(1);

    const name = deletionRequestName(request.id);
    await service.retryParticipant(admin, { name, participant: 'billing' });
    await runWorkerPass(deps, 'worker-1');
    expect((await read(request)).state).toBe('NEEDS_ATTENTION');
    expect(fakes.ownerAlerts.delivered).toHaveLength(1);

    // billing answers now, ledger (called after it) fails: ledger's owner gets an alert of its own.
    participants.answerErase('billing', { outcome: { kind: 'NOTHING_FOUND' } });
    participants.answerErase('ledger', FAIL);
    await service.retryParticipant(admin, { name, participant: 'billing' });
    await runWorkerPass(deps, 'worker-1');
    expect((await read(request)).state).toBe('NEEDS_ATTENTION');
    expect(fakes.ownerAlerts.delivered.map((delivery) => delivery.key)).toEqual([
      `${request.id}:billing`,
      `${request.id}:ledger`,
    ]);
  });

  it('lets one of two workers that find the same alert due send it', async () => {
    const { deps, fakes, participants, due, read } = world();
    participants.answerErase('billing', FAIL);
    const request = await due('two-workers');
    await purgeRequest(deps, request, { owner: 'worker-1' });
    const stuck = await read(request);
    const sent = await Promise.all([sendOwnerAlerts(deps, stuck), sendOwnerAlerts(deps, stuck)]);
    expect(sent.filter(Boolean)).toHaveLength(1);
    expect(fakes.ownerAlerts.tried).toHaveLength(1);
  });
});
