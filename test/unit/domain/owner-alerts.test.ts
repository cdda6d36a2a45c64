import { describe, expect, it } from 'vitest';
import { participantSpec } from '../../support/fakes/index.js';
import {
  afterAlertDelivery,
  claimDueAlerts,
  claimedAlerts,
  oweOwnerAlerts,
  ownerAlertMessage,
  ownerAlertsDueAt,
  type OwnerAlert,
} from '../../../src/domain/owner-alerts.js';
import type { DeletionRequestId } from '../../../src/domain/ids.js';

const now = new Date('2026-12-06T10:00:00.000Z');
const specs = [
  participantSpec('billing', { owner: { team: 'payments', webhook: 'https://hooks.test/a' } }),
  participantSpec('search', { owner: { team: 'discovery' } }),
  participantSpec('legacy'),
];
const stuck = (errors: Record<string, string | null>, alerts: readonly OwnerAlert[] = []) => ({
  participants: Object.fromEntries(
    Object.entries(errors).map(([name, lastErrorCode]) => [name, { lastErrorCode }]),
  ),
  history: [{ traceId: 'trace-1' }, { traceId: 'trace-of-the-change' }],
  ownerAlerts: alerts,
});
const policy = { baseMs: 1000, capMs: 60_000, random: () => 0.5, maxAttempts: 3, now };

describe('owner alerts', () => {
  it('owes one alert per failed service that has an owner, with the change’s trace and reason', () => {
    const request = stuck({ billing: 'UNAVAILABLE', search: 'REPORT_OVERDUE', legacy: 'X' });
    const owed = oweOwnerAlerts(request, ['billing', 'search', 'legacy'], { specs, now });
    expect(owed.ownerAlerts).toEqual([
      expect.objectContaining({
        participant: 'billing',
        team: 'payments',
        reason: 'UNAVAILABLE',
        traceId: 'trace-of-the-change',
        status: 'OWED',
        dueAt: now,
      }),
      expect.objectContaining({ participant: 'search', team: 'discovery', status: 'OWED' }),
    ]);
  });

  it('never owes a service a second alert for the same request', () => {
    const first = oweOwnerAlerts(stuck({ billing: 'UNAVAILABLE' }), ['billing'], { specs, now });
    const sent = afterAlertDelivery(
      first.ownerAlerts,
      { participant: 'billing', result: 'SENT' },
      policy,
    );
    const again = oweOwnerAlerts(
      stuck({ billing: 'UNAVAILABLE', search: 'X_Y' }, sent),
      ['billing', 'search'],
      {
        specs,
        now,
      },
    );
    expect(again.ownerAlerts.map((alert) => `${alert.participant}:${alert.status}`)).toEqual([
      'billing:SENT',
      'search:OWED',
    ]);
  });

  it('keeps a reason that is not a code out of the alert', () => {
    const request = stuck({ billing: 'failed for jane@example.com' });
    expect(oweOwnerAlerts(request, ['billing'], { specs, now }).ownerAlerts[0]?.reason).toBeNull();
  });

  it('retries a failed delivery after a back-off, then gives up after the last attempt', () => {
    let alerts = oweOwnerAlerts(stuck({ billing: 'UNAVAILABLE' }), ['billing'], {
      specs,
      now,
    }).ownerAlerts;
    alerts = afterAlertDelivery(alerts, { participant: 'billing', result: 'RETRY' }, policy);
    expect(alerts[0]).toMatchObject({
      status: 'OWED',
      attempts: 1,
      dueAt: new Date(now.getTime() + 500),
    });
    alerts = afterAlertDelivery(alerts, { participant: 'billing', result: 'RETRY' }, policy);
    expect(alerts[0]).toMatchObject({ status: 'OWED', attempts: 2 });
    alerts = afterAlertDelivery(alerts, { participant: 'billing', result: 'RETRY' }, policy);
    expect(alerts[0]).toMatchObject({
      status: 'GIVEN_UP',
      attempts: 3,
      dueAt: null,
      settledAt: now,
    });
    expect(ownerAlertsDueAt(alerts)).toBeNull();
  });

  it('settles at once when refused for good or without a webhook', () => {
    const alerts = oweOwnerAlerts(stuck({ billing: 'A', search: 'B' }), ['billing', 'search'], {
      specs,
      now,
    }).ownerAlerts;
    const refused = afterAlertDelivery(
      alerts,
      { participant: 'billing', result: 'REFUSED' },
      policy,
    );
    const settled = afterAlertDelivery(
      refused,
      { participant: 'search', result: 'NO_WEBHOOK' },
      policy,
    );
    expect(settled.map((alert) => `${alert.status}:${String(alert.attempts)}`)).toEqual([
      'GIVEN_UP:1',
      'NO_WEBHOOK:0',
    ]);
  });

  it('claims what is due so another worker does not find it due', () => {
    const alerts = oweOwnerAlerts(stuck({ billing: 'A' }), ['billing'], { specs, now }).ownerAlerts;
    const until = new Date(now.getTime() + 30_000);
    const claimed = claimDueAlerts(alerts, now, until);
    expect(claimedAlerts(claimed, until).map((alert) => alert.participant)).toEqual(['billing']);
    expect(claimDueAlerts(claimed, now, until)).toBe(claimed);
    expect(ownerAlertsDueAt(claimed)).toEqual(until);
  });

  it('says which request, service, team, state, reason, trace and time; nothing about the subject', () => {
    const [alert] = oweOwnerAlerts(stuck({ billing: 'UNAVAILABLE' }), ['billing'], {
      specs,
      now,
    }).ownerAlerts;
    expect(alert && ownerAlertMessage('req-1' as DeletionRequestId, alert)).toEqual({
      alert: 'DELETION_NEEDS_ATTENTION',
      deletionRequest: 'deletionRequests/req-1',
      linkedService: 'billing',
      team: 'payments',
      state: 'NEEDS_ATTENTION',
      reason: 'UNAVAILABLE',
      traceId: 'trace-of-the-change',
      time: now.toISOString(),
    });
  });
});
