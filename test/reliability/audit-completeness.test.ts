import { describe, expect, inject, it, vi } from 'vitest';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { OWED_AUDIT_GRACE_MS } from '../../src/app/worker/append-owed-audit.js';
import { changeKey, noticeKey } from '../../src/domain/audit-event.js';
import { everythingAudited } from '../../src/domain/audit-marks.js';
import { createMongoDeletionRepository } from '../../src/persistence/mongo/mongo-deletion-repository.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { AuditEventKind } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { aDeletionRequest } from '../fixtures/deletion-request-builder.js';
import { adminAuth, participantAuth } from '../support/principals.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A state change stored without its audit event is data loss for a
 * compliance log (issue 21, item 1). Here the database goes away between a
 * confirmation's write and its audit append, and the replica is abandoned
 * without shutting down (as a killed one would be); another replica names
 * the gap once the change is past its grace, appends it, and the log then
 * holds it once. `crash-recovery.test.ts` kills real processes at random
 * points and checks the same completeness at the end.
 */
describe('audit completeness under faults', () => {
  const cleanup = cleanupsAfterEach();

  it('names a change whose append was lost, appends it after recovery, and holds it once', async () => {
    const uri = inject('mongoUri');
    const proxy = await startCuttableProxy(new URL(uri).host);
    cleanup(() => proxy.close());
    const crm = await startFakeParticipant('crm');
    cleanup(() => crm[Symbol.asyncDispose]());
    const env = { PARTICIPANTS: participantsConfig([crm]) };
    const doomed = await startTestApp(env, { mongoUri: proxy.uriThrough(uri) });
    cleanup(async () => {
      proxy.restore();
      await doomed[Symbol.asyncDispose]();
    });
    const subject = await doomed.requested({ prefix: 'lost-append' });
    await doomed.app.deps.audit.outbox.flush();

    // The database goes away after the confirmation is stored, as its event is being appended
    // (only then: an event of the request's creation that comes late goes through).
    const log = doomed.app.audit.log;
    const append = log.append.bind(log);
    const confirmation = changeKey(subject.id, 0);
    const lost = vi.spyOn(log, 'append').mockImplementation((entry) => {
      if (entry.key === confirmation) proxy.cut();
      return append(entry);
    });
    // The call goes on after its write (it suspends the account): when the append is quicker, the
    // call meets the database gone too and answers UNAVAILABLE, its change stored all the same.
    await doomed.client
      .confirmDeletion({ name: subject.name, code: subject.code }, subject.cast.self)
      .catch((error: unknown) => {
        expect(error).toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
      });
    await expect
      .poll(() => lost.mock.calls.some(([entry]) => entry.key === confirmation))
      .toBe(true);
    await doomed.app.deps.audit.outbox.appended();
    lost.mockRestore();
    // The replica is gone: nothing of it runs again. The database comes back.
    proxy.restore();

    const survivor = await startTestApp(
      { ...env, MONGODB_DB: doomed.dbName },
      { keepDatabase: true },
    );
    cleanup(() => survivor[Symbol.asyncDispose]());
    const admin = await adminAuth('auditor-ann');
    const trpc = createTrpcClient({ url: survivor.trpcUrl, token: admin.token });

    // Within its grace the change is owed (its writer may be appending it): not a gap yet.
    const fresh = await survivor.client.verifyAuditLog({}, admin);
    expect(fresh).toMatchObject({ intact: true, complete: true, eventsOwed: '1', gapCount: '0' });

    // Past it, with nobody appending, it is a gap, named on both transports.
    survivor.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
    const overGrpc = await survivor.client.verifyAuditLog({}, admin);
    const overTrpc = await trpc.verifyAuditLog.query();
    expect(overGrpc).toMatchObject({ intact: true, complete: false, gapCount: '1' });
    expect(overGrpc.gaps).toEqual([
      expect.objectContaining({
        deletionRequest: subject.name,
        key: confirmation,
        what: 'REQUESTED → SCHEDULED',
      }),
    ]);
    expect(overTrpc).toMatchObject({
      intact: true,
      completeness: {
        complete: false,
        gapCount: 1,
        gaps: [{ deletionRequest: subject.name, key: confirmation, kind: 'STATE_CHANGED' }],
      },
    });

    // Housekeeping appends what is owed; the log is whole, with the change in it once.
    expect((await survivor.app.runHousekeeping()).audited).toBe(1);
    await survivor.app.runHousekeeping();
    const after = await survivor.client.verifyAuditLog({}, admin);
    expect(after).toMatchObject({ intact: true, complete: true, gapCount: '0', eventsOwed: '0' });
    const events = await survivor.client.listAuditEvents(
      {
        deletionRequest: subject.name,
        kind: AuditEventKind.AUDIT_EVENT_KIND_STATE_CHANGED,
        pageSize: 100,
      },
      admin,
    );
    expect(events.auditEvents.map((event) => event.details.to)).toEqual(['SCHEDULED']);
    // The event names what happened, not only the two states.
    expect(events.auditEvents[0]?.details.transition).toBe('CONFIRMED');
  });

  it('records each linked service’s final answer and each notice sent as events', async () => {
    const fakes: FakeParticipant[] = [
      await startFakeParticipant('crm'),
      await startFakeParticipant('billing', { acceptUntil: new Date(Date.now() + 3_600_000) }),
    ];
    cleanup(() => Promise.all(fakes.map((fake) => fake[Symbol.asyncDispose]())));
    const t: TestApp = await startTestApp({ PARTICIPANTS: participantsConfig(fakes) });
    cleanup(() => t[Symbol.asyncDispose]());
    const subject = await t.scheduled({ prefix: 'answers' });
    await t.app.runWorkerPass(); // crm answers ERASED; billing ACCEPTED, to report later
    const billing = await participantAuth('billing');
    await t.client.reportErasureOutcome(
      {
        name: subject.name,
        participant: 'billing',
        subjectId: subject.subjectId,
        outcome: { $case: 'erased', value: { records: '2', categories: ['invoices'] } },
      },
      billing,
    );
    await t.app.runWorkerPass(); // completes: the final notice goes
    await t.app.deps.audit.outbox.flush();

    const admin = await adminAuth('auditor-bo');
    const listed = await t.client.listAuditEvents(
      { deletionRequest: subject.name, pageSize: 200 },
      admin,
    );
    const answered = listed.auditEvents
      .filter((event) => event.kind === AuditEventKind.AUDIT_EVENT_KIND_PARTICIPANT_ANSWERED)
      .map((event) => `${event.details.participant ?? ''}:${event.details.outcome ?? ''}`);
    const notices = listed.auditEvents
      .filter((event) => event.kind === AuditEventKind.AUDIT_EVENT_KIND_NOTICE_SENT)
      .map((event) => `${event.details.kind ?? ''}:${event.details.outcome ?? ''}`);
    expect(answered.sort()).toEqual(['billing:ERASED', 'crm:ERASED']);
    expect(notices).toEqual(expect.arrayContaining(['COMPLETED:SENT']));
    expect(JSON.stringify(listed)).not.toContain(t.emailOf(subject.subjectId));

    const verdict = await t.client.verifyAuditLog({}, admin);
    expect(verdict).toMatchObject({ intact: true, complete: true, gapCount: '0' });
  });

  it('records the answers and notices of requests that never complete', async () => {
    const crm = await startFakeParticipant('crm');
    const billing = await startFakeParticipant('billing', { failFirst: 1000 });
    cleanup(() => Promise.all([crm, billing].map((fake) => fake[Symbol.asyncDispose]())));
    const t = await startTestApp({
      PARTICIPANTS: participantsConfig([crm, billing]),
      MAX_ATTEMPTS: '2',
      GRACE_PERIOD_SECONDS: '60',
    });
    cleanup(() => t[Symbol.asyncDispose]());
    // One needs attention: crm answered, billing never will.
    const stuck = await t.scheduled({ prefix: 'stuck' });
    // One is restored by its subject: its last notice goes after its last change.
    const restored = await t.scheduled({ prefix: 'restored' });
    await t.client.undeleteDeletionRequest({ name: restored.name }, restored.cast.self);
    t.clock.advance(61_000);
    const stateOf = async () => (await t.app.deps.requests.findById(stuck.id))?.state;
    for (let pass = 0; pass < 10 && (await stateOf()) !== 'NEEDS_ATTENTION'; pass += 1) {
      await t.app.runWorkerPass();
      t.clock.advance(30_000);
    }
    await t.app.deps.audit.outbox.flush();
    expect((await t.app.deps.requests.findById(stuck.id))?.state).toBe('NEEDS_ATTENTION');
    expect((await t.app.deps.requests.findById(restored.id))?.sentNotices).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'RESTORED', outcome: 'SENT' })]),
    );

    const admin = await adminAuth('auditor-di');
    const eventsOf = async (request: { readonly name: string }) =>
      (await t.client.listAuditEvents({ deletionRequest: request.name, pageSize: 200 }, admin))
        .auditEvents;
    const answers = (await eventsOf(stuck))
      .filter((event) => event.kind === AuditEventKind.AUDIT_EVENT_KIND_PARTICIPANT_ANSWERED)
      .map((event) => `${event.details.participant ?? ''}:${event.details.outcome ?? ''}`);
    expect(answers).toEqual(['crm:ERASED']);
    const notices = (await eventsOf(restored))
      .filter((event) => event.kind === AuditEventKind.AUDIT_EVENT_KIND_NOTICE_SENT)
      .map((event) => `${event.details.kind ?? ''}:${event.details.outcome ?? ''}`);
    expect(notices).toEqual(expect.arrayContaining(['SCHEDULED:SENT', 'RESTORED:SENT']));

    // Each once, and the log holds everything the requests record. The notice sent after the
    // last change has no later write to record it in: housekeeping does, appending nothing.
    t.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
    expect(await t.app.runHousekeeping()).toMatchObject({ audited: 0 });
    for (const { id } of [stuck, restored]) {
      const settled = await t.app.deps.requests.findById(id);
      expect(settled?.audited).toEqual(settled && everythingAudited(settled));
    }
    const keys = (await t.app.audit.log.read(0, 10_000)).map((event) => event.key);
    expect(new Set(keys).size).toBe(keys.length);
    const verdict = await t.client.verifyAuditLog({}, admin);
    expect(verdict).toMatchObject({ intact: true, complete: true, gapCount: '0', eventsOwed: '0' });
  });

  it('names a notice whose writer died before appending it, and appends it after the grace', async () => {
    const t = await startTestApp();
    cleanup(() => t[Symbol.asyncDispose]());
    // A writer that recorded a notice and died before its outbox appended it: the raw repository.
    const raw = createMongoDeletionRepository(t.app.connection, t.app.subjectData.cipher);
    const request = aDeletionRequest({ createdAt: t.clock.now() });
    await raw.insert(request);
    const told = {
      ...request,
      version: request.version + 1,
      sentNotices: [
        {
          key: 'RECEIPT',
          kind: 'RECEIPT' as const,
          outcome: 'SENT' as const,
          channel: 'email',
          messageId: null,
          at: t.clock.now(),
        },
      ],
    };
    expect(await raw.update(told, request)).toBe(true);

    const admin = await adminAuth('auditor-ed');
    const key = noticeKey(request.id, 'RECEIPT');
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({
      complete: true,
      eventsOwed: '1',
    });
    t.clock.advance(OWED_AUDIT_GRACE_MS + 1000);
    const gap = await t.client.verifyAuditLog({}, admin);
    expect(gap).toMatchObject({ complete: false, gapCount: '1' });
    expect(gap.gaps).toEqual([
      expect.objectContaining({ key, kind: AuditEventKind.AUDIT_EVENT_KIND_NOTICE_SENT }),
    ]);

    expect(await t.app.runHousekeeping()).toMatchObject({ audited: 1 });
    expect((await t.app.deps.requests.findById(request.id))?.audited.notices).toBe(1);
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({
      complete: true,
      gapCount: '0',
      eventsOwed: '0',
    });
    const logged = (await t.app.audit.log.read(0, 10_000)).filter((event) => event.key === key);
    expect(logged).toHaveLength(1);
  });

  it('does not count the answers and notices an earlier version recorded without events', async () => {
    const t = await startTestApp();
    cleanup(() => t[Symbol.asyncDispose]());
    const long = new Date('2025-01-01T00:00:00Z');
    // Stored by a version that did not audit answers and notices: before this one's first start.
    await t.app.deps.requests.insert(
      aDeletionRequest({
        participants: {
          crm: {
            status: 'DONE',
            attempts: 1,
            lastErrorCode: null,
            nextAttemptAt: null,
            expectedBy: null,
            outcome: { kind: 'ERASED', records: 1, categories: [] },
            updatedAt: long,
          },
        },
        sentNotices: [
          {
            key: 'RECEIPT',
            kind: 'RECEIPT',
            outcome: 'SENT',
            channel: 'email',
            messageId: null,
            at: long,
          },
        ],
      }),
    );
    const admin = await adminAuth('auditor-cy');
    expect(await t.client.verifyAuditLog({}, admin)).toMatchObject({
      complete: true,
      eventsExpected: '0',
      requestsChecked: '1',
    });
  });
});
