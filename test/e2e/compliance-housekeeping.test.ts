import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionRequest_State } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { AuditEventKind } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { createMongoMailboxStore } from '../../src/dev/mongo-mailbox-store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { installInMemoryTelemetry, totalOf } from '../support/in-memory-telemetry.js';
import { castFor } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY_MS = 86_400_000;

/** The collections of the app's database in which `text` occurs. */
const collectionsHolding = async (t: TestApp, text: string): Promise<string[]> => {
  const db = t.app.connection.db!;
  const holding: string[] = [];
  for (const { name } of await db.listCollections().toArray())
    if (JSON.stringify(await db.collection(name).find({}).toArray()).includes(text))
      holding.push(name);
  return holding.sort();
};

describe('the legal clock: a metric and a log alert near the deadline', () => {
  const telemetry = installInMemoryTelemetry();
  const logLines: string[] = [];
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      // Scheduled for a month: still open when its deadline nears.
      { GRACE_PERIOD_SECONDS: String(40 * 86_400), DEADLINE_WARNING_DAYS: '7' },
      {
        logger: createLogger({
          level: 'info',
          destination: { write: (line: string) => logLines.push(line) },
        }),
      },
    );
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    telemetry.uninstall();
  });

  const alerts = () =>
    logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.alert === 'DELETION_DEADLINE_NEAR');

  it('fires for an open request within the warning period, and stops once the deadline is extended', async () => {
    const gauge = async () => totalOf(await telemetry.collect(), 'deletion.requests.near_deadline');
    const request = await t.scheduled({ jurisdiction: 'CCPA' });
    expect(await gauge()).toBe(0);
    expect(await t.app.runHousekeeping()).toMatchObject({ nearDeadline: 0 });
    expect(alerts()).toEqual([]);

    // 40 of its 45 days later: five days left, inside the seven-day warning.
    t.clock.advance(40 * DAY_MS);
    expect(await gauge()).toBe(1);
    expect(await t.app.runHousekeeping()).toMatchObject({ nearDeadline: 1 });
    const [alert] = alerts();
    expect(alert).toMatchObject({
      level: 40,
      msg: 'deletion request near its legal deadline',
      deletionRequest: request.id,
      state: 'SCHEDULED',
      jurisdiction: 'CCPA',
      extended: false,
    });
    expect(alert?.hoursLeft).toBeGreaterThanOrEqual(5 * 24 - 1);
    expect(alert?.hoursLeft).toBeLessThanOrEqual(5 * 24);
    // An SRE's alert names the request, never the subject.
    expect(logLines.join('\n')).not.toContain(request.subjectId);

    // Extended by 45 days: no longer near, the gauge and the alert stop.
    await t.client.extendDeadline(
      { name: request.name, reason: 'A linked service needs a manual export first' },
      (await castFor('sre')).admin,
    );
    expect(await gauge()).toBe(0);
    logLines.length = 0;
    expect(await t.app.runHousekeeping()).toMatchObject({ nearDeadline: 0 });
    expect(alerts()).toEqual([]);
  });

  it('says when a deadline has passed, and no extension can hide it then', async () => {
    const request = await t.scheduled({ jurisdiction: 'CCPA' });
    t.clock.advance(46 * DAY_MS);
    logLines.length = 0;
    await t.app.runHousekeeping();
    const late = alerts().find((alert) => alert.deletionRequest === request.id);
    expect(late).toMatchObject({ msg: 'deletion request past its legal deadline' });
    expect(late?.hoursLeft).toBeLessThan(0);
    const refused = await t.client
      .extendDeadline(
        { name: request.name, reason: 'A linked service needs a manual export first' },
        (await castFor('sre')).admin,
      )
      .catch((error: unknown) => error as { reason: string });
    expect(refused).toMatchObject({ reason: 'DEADLINE_PASSED' });
  });
});

describe('housekeeping across replicas', () => {
  it('is done by the one worker replica holding its lease; the others skip their runs', async () => {
    const first = await startTestApp({}, { keepDatabase: true });
    // The second one drops the shared database when disposed, last.
    const second = await startTestApp({}, { dbName: first.dbName });
    try {
      const [one, two] = await Promise.all([
        first.app.runHousekeeping(),
        second.app.runHousekeeping(),
      ]);
      expect([one.held, two.held].sort()).toEqual([false, true]);
      // The holder keeps it run after run.
      const [holder, other] = one.held ? [first, second] : [second, first];
      expect((await holder.app.runHousekeeping()).held).toBe(true);
      expect((await other.app.runHousekeeping()).held).toBe(false);
    } finally {
      await first[Symbol.asyncDispose]();
      await second[Symbol.asyncDispose]();
    }
  });
});

describe('retention of the service’s own records', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', RECORD_RETENTION_DAYS: '30' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('cuts a completed request down to pseudonym, states, times and outcomes after the period; the audit records it and still verifies', async () => {
    const admin = (await castFor('sre')).admin;
    const completed = await t.scheduled({ phone: '+4915100000001' });
    const cancelled = await t.requested();
    // Extended, then withdrawn: its sealed reason goes with the rest.
    await t.client.extendDeadline(
      { name: cancelled.name, reason: 'Waiting for a records export' },
      admin,
    );
    await t.client.cancelDeletion({ name: cancelled.name }, cancelled.cast.self);
    // The purge, the final notice, then the subject's key destroyed.
    await t.app.runWorkerPass();
    await t.app.runWorkerPass();
    const before = await t.client.getDeletionRequest({ name: completed.name }, admin);
    expect(before.state).toBe(DeletionRequest_State.STATE_COMPLETED);
    expect(before.finalNoticeTime).toBeInstanceOf(Date);
    expect(
      (await t.app.deps.requests.findById(completed.id))?.subjectKeyDestroyedAt,
    ).toBeInstanceOf(Date);

    expect(await collectionsHolding(t, completed.subjectId)).toContain('deletion_requests');
    // Within the period nothing is touched.
    expect(await t.app.runHousekeeping()).toMatchObject({ swept: 0 });
    t.clock.advance(31 * DAY_MS);
    expect(await t.app.runHousekeeping()).toMatchObject({ swept: 2 });
    // Once: a second run finds nothing more.
    expect(await t.app.runHousekeeping()).toMatchObject({ swept: 0 });

    // Nothing in the database names the erased subject or their contact any more; the
    // subject who withdrew is named only by their own account (and its sessions and tokens),
    // which lives on.
    expect(await collectionsHolding(t, completed.subjectId)).toEqual([]);
    expect(await collectionsHolding(t, t.emailOf(completed.subjectId))).toEqual([]);
    expect(await collectionsHolding(t, '+4915100000001')).toEqual([]);
    expect(await collectionsHolding(t, cancelled.subjectId)).toEqual([
      'accounts',
      'api_tokens',
      'sessions',
    ]);

    // What is left: the pseudonym, the states and times, the outcomes, the report's digest.
    const after = await t.client.getDeletionRequest({ name: completed.name }, admin);
    expect(after.subjectId).toMatch(/^psn_/);
    expect(after.state).toBe(DeletionRequest_State.STATE_COMPLETED);
    expect(after.history.map((change) => change.toState)).toEqual(
      before.history.map((change) => change.toState),
    );
    expect(after.history.map((change) => change.time)).toEqual(
      before.history.map((change) => change.time),
    );
    expect(after.completeTime).toEqual(before.completeTime);
    expect(after.sentNotices.map((sent) => sent.kind)).toEqual(
      before.sentNotices.map((sent) => sent.kind),
    );
    expect(after.reason).toBe('');
    const raw = (await t.app.connection
      .collection('deletion_requests')
      .findOne({ _id: completed.id })) as unknown as {
      report: unknown;
      retention: { sweptAt: Date; reportSha256: string };
      finalNotice: unknown;
      sealed: unknown;
      requester: { id: string };
    };
    expect(raw.report).toBeNull();
    expect(raw.retention.reportSha256).toMatch(/^[0-9a-f]{64}$/);
    expect([raw.finalNotice, raw.sealed]).toEqual([null, null]);
    // Nothing left to seal: no data key is made for the pseudonym.
    const withdrawn = (await t.app.connection
      .collection('deletion_requests')
      .findOne({ _id: cancelled.id })) as unknown as {
      sealed: unknown;
      deadlineExtension: { reason: string };
    };
    expect([withdrawn.sealed, withdrawn.deadlineExtension.reason]).toEqual([null, '']);
    expect(raw.requester.id).toBe(after.subjectId);
    const report = await t.client
      .getErasureReport({ name: completed.name }, admin)
      .catch((error: unknown) => error as { reason: string });
    expect(report).toMatchObject({ reason: 'RECORD_SWEPT' });

    // Each sweep is audited, by pseudonym; the chain still verifies.
    const swept = await t.client.listAuditEvents(
      { kind: AuditEventKind.AUDIT_EVENT_KIND_RECORD_SWEPT },
      admin,
    );
    expect(
      swept.auditEvents.map((event) => [event.deletionRequest, event.subjectPseudonym]).sort(),
    ).toEqual(
      [
        [completed.name, after.subjectId],
        [
          cancelled.name,
          (await t.client.getDeletionRequest({ name: cancelled.name }, admin)).subjectId,
        ],
      ].sort(),
    );
    expect(swept.auditEvents[0]?.details).toMatchObject({
      kept: 'pseudonym, states, times, trace ids, outcomes',
    });
    // Reading the swept record is audited under the same pseudonym (not a hash of it).
    const reads = await t.client.listAuditEvents(
      { kind: AuditEventKind.AUDIT_EVENT_KIND_PRIVILEGED_READ, deletionRequest: completed.name },
      admin,
    );
    expect(reads.auditEvents.at(-1)?.subjectPseudonym).toBe(after.subjectId);
    expect(new Set(reads.auditEvents.map((event) => event.subjectPseudonym))).toEqual(
      new Set([after.subjectId]),
    );
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({ intact: true });
  });

  it('keeps an open request, and one still owing its subject a notice, whatever their age', async () => {
    const open = await t.requested();
    // No worker pass: its receipt is still in the outbox.
    const cancelled = await t.requested();
    await t.client.cancelDeletion({ name: cancelled.name }, cancelled.cast.self);
    t.clock.advance(31 * DAY_MS);
    await t.app.runHousekeeping();
    for (const request of [open, cancelled])
      expect((await t.app.deps.requests.findById(request.id))?.retention).toBeNull();
  });

  it('expires dev mailbox messages after DEV_MAILBOX_RETENTION_HOURS', async () => {
    const mailbox = await startTestApp({
      NOTIFIER: 'dev-mailbox',
      DEV_MAILBOX_RETENTION_HOURS: '24',
    });
    try {
      const store = createMongoMailboxStore(mailbox.app.connection);
      const sentAt = mailbox.clock.now();
      await store.deliver({ to: 'old@example.test', subject: 's', text: 't', sentAt });
      mailbox.clock.advance(DAY_MS + 60_000);
      await store.deliver({
        to: 'new@example.test',
        subject: 's',
        text: 't',
        sentAt: mailbox.clock.now(),
      });
      expect(await mailbox.app.runHousekeeping()).toMatchObject({ mailboxExpired: 1 });
      expect((await store.list({ limit: 10 })).map((message) => message.to)).toEqual([
        'new@example.test',
      ]);
    } finally {
      await mailbox[Symbol.asyncDispose]();
    }
  });
});
