import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEventKind } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { castFor } from '../support/principals.js';
import { refusal, scenarioClient, type Transport } from '../support/scenario-clients.js';
import { mimeParts } from '../support/mime.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY_MS = 86_400_000;

describe.each<Transport>(['grpc', 'trpc'])('deadline extension over %s', (transport) => {
  let t: TestApp;

  beforeAll(async () => {
    // A long grace period: the requests stay SCHEDULED, open, while the test extends them.
    t = await startTestApp({ GRACE_PERIOD_SECONDS: String(30 * 86_400) });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('extends a GDPR deadline by two months, once: recorded, audited, told to the subject, on the resource', async () => {
    const client = scenarioClient(transport, t);
    const request = await t.scheduled({ jurisdiction: 'GDPR' });
    const cast = await castFor(request.subjectId);
    const before = await client.get({ name: request.name }, cast.admin);
    expect(before.deadlineExtension).toBeNull();

    const reason = 'A linked service holds years of records and needs a manual export first';
    const extended = await client.extend(
      { name: request.name, reason, etag: before.etag },
      cast.admin,
    );
    const previous = new Date(before.legalDeadline);
    // Two calendar months on, the day clamped to the end of a shorter month (29 December → 28 February).
    const [year, month] = [previous.getUTCFullYear(), previous.getUTCMonth() + 2];
    const expected = new Date(previous);
    expected.setUTCFullYear(
      year,
      month,
      Math.min(previous.getUTCDate(), new Date(Date.UTC(year, month + 1, 0)).getUTCDate()),
    );
    expect(new Date(extended.legalDeadline).toISOString()).toBe(expected.toISOString());
    expect(extended.deadlineExtension).toEqual({
      previousDeadline: before.legalDeadline,
      reason,
      actorId: 'admin-cy',
    });
    // The extension is something a caller acts on: the etag moved.
    expect(extended.etag).not.toBe(before.etag);

    // Once only; the stale etag is refused first.
    expect(
      (await refusal(client.extend({ name: request.name, reason, etag: before.etag }, cast.admin)))
        .status,
    ).toBe('ABORTED');
    const again = await refusal(client.extend({ name: request.name, reason }, cast.admin));
    expect([again.status, again.reason]).toEqual(['FAILED_PRECONDITION', 'ALREADY_EXTENDED']);

    // The subject is told, with the reason and the new date, by the next worker pass.
    const since = t.smtp.messages.length;
    await t.app.runWorkerPass();
    // The pass sends what the outbox holds in order: the receipt, scheduled, then this one.
    const mail = t.smtp.messages
      .slice(since)
      .filter((message) => message.to.includes(t.emailOf(request.subjectId)))
      .at(-1);
    expect(mail?.raw).toMatch(/^Subject: We need more time to delete your account\r?$/m);
    const plain = mimeParts(mail?.raw ?? '')
      .map((part) => part.body)
      .join('\n');
    expect(plain).toContain(reason);
    expect(plain).toContain(
      new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(expected),
    );
    const told = await client.get({ name: request.name }, cast.admin);
    expect(told.sentNotices).toContain('DEADLINE_EXTENDED SENT email');

    // Audited as an administrator's action, with both dates; not the reason (free text stays
    // sealed on the request, out of the lasting audit log).
    const actions = await t.client.listAuditEvents(
      { deletionRequest: request.name, kind: AuditEventKind.AUDIT_EVENT_KIND_ADMIN_ACTION },
      cast.admin,
    );
    expect(actions.auditEvents.map((event) => [event.actor?.id, event.details])).toEqual([
      [
        'admin-cy',
        {
          operation: 'extendDeadline',
          previousDeadline: previous.toISOString(),
          deadline: expected.toISOString(),
        },
      ],
    ]);
    expect((await t.client.verifyAuditLog({}, cast.admin)).intact).toBe(true);

    // The reason is sealed at rest: neither the extension nor the outbox holds it in clear.
    const raw = JSON.stringify(
      await t.app.connection.collection('deletion_requests').findOne({ _id: request.id }),
    );
    expect(raw).not.toContain('manual export');
  });

  it('extends a CCPA deadline by 45 days', async () => {
    const client = scenarioClient(transport, t);
    const request = await t.scheduled({ jurisdiction: 'CCPA' });
    const cast = await castFor(request.subjectId);
    const before = await client.get({ name: request.name }, cast.admin);
    const extended = await client.extend(
      { name: request.name, reason: 'The request covers several linked accounts' },
      cast.admin,
    );
    expect(extended.legalDeadline - before.legalDeadline).toBe(45 * DAY_MS);
  });

  it('refuses to extend a closed request, a reason too short to tell the subject anything, and the requester’s own', async () => {
    const client = scenarioClient(transport, t);
    const request = await t.requested();
    const cast = await castFor(request.subjectId);
    // An administrator who asked for a deletion does not extend its deadline too.
    await t.seedAccount({ id: `${request.subjectId}-2` });
    const own = await client.request({ subjectId: `${request.subjectId}-2` }, cast.admin);
    const self = await refusal(
      client.extend({ name: own.name, reason: 'More time is needed here' }, cast.admin),
    );
    expect([self.status, self.reason]).toEqual(['PERMISSION_DENIED', 'SELF_EXTENSION']);
    const short = await refusal(client.extend({ name: request.name, reason: 'busy' }, cast.admin));
    expect([short.status, short.fields]).toEqual(['INVALID_ARGUMENT', ['reason']]);
    await client.cancel({ name: request.name }, cast.self);
    const closed = await refusal(
      client.extend({ name: request.name, reason: 'More time is needed here' }, cast.admin),
    );
    expect([closed.status, closed.reason]).toEqual(['FAILED_PRECONDITION', 'INVALID_STATE']);
  });
});
