import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWED_AUDIT_GRACE_MS } from '../../src/app/worker/append-owed-audit.js';
import { ownerAlertSecret } from '../../src/crypto/owner-alert-keys.js';
import { everythingAudited } from '../../src/domain/audit-marks.js';
import {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
} from '../../src/notify/webhook-signature.js';
import { stepSpans } from '../../src/telemetry/catalogue.js';
import { AuditEventKind } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { OwnerAlert_Status } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { adminAuth } from '../support/principals.js';
import { installInMemoryTelemetry } from '../support/in-memory-telemetry.js';
import { participantsConfig, startFakeParticipant } from '../support/fake-participant.js';
import { startProviderStub, type ProviderRequest } from '../support/provider-stub.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const AUDIT_KEY = 'owner-alerts-test-audit-key-0123456789abcdef';

/** The alert a webhook request carried, parsed. */
const alertOf = (request: ProviderRequest) => JSON.parse(request.body) as Record<string, unknown>;

let telemetry: ReturnType<typeof installInMemoryTelemetry>;
beforeAll(() => {
  telemetry = installInMemoryTelemetry();
});
afterAll(() => {
  telemetry.uninstall();
});

/**
 * Issue 24: a request stuck on a linked service alerts the team that owns it,
 * at the webhook its registration names, once per request and service ever,
 * with nothing personal in it. Real linked services (gRPC), a real HTTP
 * receiver, the whole service on the database.
 */
describe('alerts to the owners of linked services', () => {
  const cleanup = cleanupsAfterEach();

  it('alerts each owner once per stuck request, through failures and retries, with no personal data', async () => {
    const receiver = await startProviderStub();
    const crm = await startFakeParticipant('crm');
    const billing = await startFakeParticipant('billing', { failFirst: 1000 });
    const ledger = await startFakeParticipant('ledger');
    cleanup(async () => {
      await Promise.all([crm, billing, ledger].map((fake) => fake[Symbol.asyncDispose]()));
      await receiver[Symbol.asyncDispose]();
    });
    const t = await startTestApp({
      AUDIT_KEY,
      PARTICIPANTS: participantsConfig([crm, billing, ledger], {
        maxAttempts: 1,
        owners: {
          billing: { team: 'payments', webhook: `${receiver.url}/payments` },
          ledger: { team: 'finance', webhook: `${receiver.url}/finance` },
          crm: { team: 'customer-care' },
        },
      }),
      OWNER_ALERT_ATTEMPTS: '5',
    });
    cleanup(() => t[Symbol.asyncDispose]());
    /** Worker passes, the clock moved past any back-off after each, until the receiver holds `accepted` alerts. */
    const passUntil = async (accepted: number): Promise<void> => {
      for (let pass = 0; pass < 10 && receiver.accepted.length < accepted; pass += 1) {
        await t.app.runWorkerPass();
        t.clock.advance(900_000);
      }
    };

    // The receiver fails the first two deliveries: they are tried again with the same key.
    receiver.queue({ status: 500 }, { status: 500 });
    const onBilling = [
      await t.scheduled({ prefix: 'billing-a', phone: '+4915112345678' }),
      await t.scheduled({ prefix: 'billing-b' }),
      await t.scheduled({ prefix: 'billing-c' }),
    ];
    await passUntil(3);
    // Then ledger fails too: a request stuck on both tells both owners.
    ledger.behaviour = { failFirst: 1000 };
    const onBoth = await t.scheduled({ prefix: 'both', phone: '+4915187654321' });
    await passUntil(5);

    const keyOf = (request: ProviderRequest) => String(request.headers['idempotency-key']);
    const expected = [
      ...onBilling.map(({ id }) => `${id}:billing`),
      `${onBoth.id}:billing`,
      `${onBoth.id}:ledger`,
    ];
    expect(receiver.accepted.map(keyOf).sort()).toEqual([...expected].sort());
    // The two that failed were tried again, with the key they had.
    expect(receiver.requests).toHaveLength(expected.length + 2);
    const failedKeys = receiver.requests.slice(0, 2).map(keyOf);
    for (const key of failedKeys) expect(receiver.accepted.map(keyOf)).toContain(key);

    // Stuck again after a retry: billing's owner is not told a second time.
    const [first] = onBilling;
    if (first === undefined) throw new Error('no request');
    const admin = first.cast.admin;
    const stuck = await t.client.getDeletionRequest({ name: first.name }, admin);
    await t.client.retryParticipant(
      { name: first.name, participant: 'billing', etag: stuck.etag },
      admin,
    );
    await t.app.runWorkerPass();
    t.clock.advance(900_000);
    await t.app.runWorkerPass();
    expect((await t.client.getDeletionRequest({ name: first.name }, admin)).state).toBe(
      stuck.state,
    );
    const history = (await t.app.deps.requests.findById(first.id))?.history ?? [];
    expect(history.filter((change) => change.to === 'NEEDS_ATTENTION')).toHaveLength(2);
    expect(receiver.requests).toHaveLength(expected.length + 2);

    // What an alert says: the request, the service, its team, the state, the reason, the trace.
    for (const request of [...onBilling, onBoth]) {
      const stored = await t.app.deps.requests.findById(request.id);
      // The change that owed the alerts: the first to NEEDS_ATTENTION.
      const change = stored?.history.find((entry) => entry.to === 'NEEDS_ATTENTION');
      const alerts = receiver.accepted.filter((sent) => keyOf(sent).startsWith(`${request.id}:`));
      for (const sent of alerts) {
        const alert = alertOf(sent);
        expect(alert).toMatchObject({
          alert: 'DELETION_NEEDS_ATTENTION',
          deletionRequest: request.name,
          state: 'NEEDS_ATTENTION',
          reason: 'UNAVAILABLE',
          traceId: change?.traceId,
        });
        expect(change?.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(alert.team).toBe(alert.linkedService === 'billing' ? 'payments' : 'finance');
        expect(sent.path).toBe(alert.linkedService === 'billing' ? '/payments' : '/finance');
        // Nothing personal: not the subject's id, e-mail or phone.
        for (const secret of [request.subjectId, t.emailOf(request.subjectId), '+49151'])
          expect(sent.body).not.toContain(secret);
        // Signed under the service's own secret.
        const header = sent.headers[WEBHOOK_SIGNATURE_HEADER];
        const signed = { header: typeof header === 'string' ? header : undefined, body: sent.body };
        const secret = ownerAlertSecret(AUDIT_KEY, String(alert.linkedService));
        expect(verifyWebhookSignature(secret, signed, { now: new Date() })).toBe(true);
        expect(
          verifyWebhookSignature(ownerAlertSecret(AUDIT_KEY, 'crm'), signed, { now: new Date() }),
        ).toBe(false);
      }
    }
    // Every delivery, failed or not, is a span of its own.
    const spans = telemetry.exporter
      .getFinishedSpans()
      .filter((span) => span.name === stepSpans.ownerAlert);
    expect(spans).toHaveLength(receiver.requests.length);
    // crm answered every time: no alert for it, and its team has no webhook anyway.
    expect(receiver.requests.map((sent) => alertOf(sent).linkedService)).not.toContain('crm');
    const records = await t.app.deps.requests.findById(onBoth.id);
    expect(
      records?.ownerAlerts.map((alert) => `${alert.participant}:${alert.status}`).sort(),
    ).toEqual(['billing:SENT', 'ledger:SENT']);
    // Both transports show them on the request: team, status, attempts, the change's trace.
    const overGrpc = await t.client.getDeletionRequest({ name: onBoth.name }, admin);
    expect(
      overGrpc.ownerAlerts.map((alert) => `${alert.linkedService}:${alert.team}:${alert.status}`),
    ).toEqual(
      expect.arrayContaining([
        `billing:payments:${String(OwnerAlert_Status.STATUS_SENT)}`,
        `ledger:finance:${String(OwnerAlert_Status.STATUS_SENT)}`,
      ]),
    );
    const overTrpc = await createTrpcClient({ url: t.trpcUrl, ...admin }).getDeletionRequest.query({
      name: onBoth.name,
    });
    expect(overTrpc.ownerAlerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ linkedService: 'billing', team: 'payments', status: 'SENT' }),
        expect.objectContaining({ linkedService: 'ledger', team: 'finance', status: 'SENT' }),
      ]),
    );
    expect(
      overTrpc.ownerAlerts.every((alert) => alert.traceId === overGrpc.ownerAlerts[0]?.traceId),
    ).toBe(true);
  });

  it('gives an alert up after its attempts and logs an owner without a webhook', async () => {
    const receiver = await startProviderStub();
    const billing = await startFakeParticipant('billing', { failFirst: 1000 });
    const search = await startFakeParticipant('search', { failFirst: 1000 });
    cleanup(async () => {
      await Promise.all([billing, search].map((fake) => fake[Symbol.asyncDispose]()));
      await receiver[Symbol.asyncDispose]();
    });
    const lines: Record<string, unknown>[] = [];
    const { pino } = await import('pino');
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const t: TestApp = await startTestApp(
      {
        PARTICIPANTS: participantsConfig([billing, search], {
          maxAttempts: 1,
          owners: {
            billing: { team: 'payments', webhook: `${receiver.url}/payments` },
            search: { team: 'discovery' },
          },
        }),
        OWNER_ALERT_ATTEMPTS: '3',
      },
      { logger },
    );
    cleanup(() => t[Symbol.asyncDispose]());
    receiver.queue(...Array.from({ length: 10 }, () => ({ status: 503 })));
    const request = await t.scheduled({ prefix: 'given-up' });
    for (let pass = 0; pass < 6; pass += 1) {
      await t.app.runWorkerPass();
      t.clock.advance(900_000);
    }

    expect(receiver.requests).toHaveLength(3);
    expect(receiver.accepted).toHaveLength(0);
    const stored = await t.app.deps.requests.findById(request.id);
    expect(
      stored?.ownerAlerts.map((alert) => `${alert.participant}:${alert.status}`).sort(),
    ).toEqual(['billing:GIVEN_UP', 'search:NO_WEBHOOK']);
    const settled = lines.filter((line) => String(line.alert).startsWith('OWNER_ALERT_'));
    expect(settled).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          alert: 'OWNER_ALERT_GIVEN_UP',
          deletionRequest: request.name,
          linkedService: 'billing',
          team: 'payments',
          attempts: 3,
        }),
        expect.objectContaining({ alert: 'OWNER_ALERT_NO_WEBHOOK', linkedService: 'search' }),
      ]),
    );
    expect(settled).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(request.subjectId);

    // Each alert that settled is in the audit log, once, and the log is complete.
    await t.app.deps.audit.outbox.flush();
    const admin = await adminAuth('auditor-alerts');
    const events = await t.client.listAuditEvents(
      { deletionRequest: request.name, kind: AuditEventKind.AUDIT_EVENT_KIND_OWNER_ALERTED },
      admin,
    );
    expect(
      events.auditEvents
        .map((event) => `${event.details.participant ?? ''}:${event.details.outcome ?? ''}`)
        .sort(),
    ).toEqual(['billing:GIVEN_UP', 'search:NO_WEBHOOK']);
    expect(JSON.stringify(events)).not.toContain(receiver.url);
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({
      intact: true,
      complete: true,
      gapCount: '0',
    });
    // The request records that they are in (housekeeping, past the grace, appends nothing again).
    t.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
    await t.app.runHousekeeping();
    const settledRecord = await t.app.deps.requests.findById(request.id);
    expect([...(settledRecord?.audited.alerts ?? [])].sort()).toEqual(['billing', 'search']);
    expect(settledRecord?.audited).toEqual(settledRecord && everythingAudited(settledRecord));
    const keys = (await t.app.audit.log.read(0, 10_000)).map((event) => event.key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
