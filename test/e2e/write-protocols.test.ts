import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyErasureReport } from '../../clients/erasure-report/verify-erasure-report.js';
import { verifyAuditChain } from '../../src/app/audit/audit-trail.js';
import { everythingAudited } from '../../src/domain/audit-marks.js';
import type { WriteProtocol } from '../../src/persistence/mongo/request-writes.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// The whole lifecycle on each write protocol, whatever the server would choose: one writer at
// a time, so compare-and-set runs here too (its races need MongoDB; see the repository tests).
describe.each<WriteProtocol>(['compare-and-set', 'version-claims'])(
  'a deletion on the %s write protocol',
  (protocol) => {
    let t: TestApp;
    let billing: FakeParticipant;
    beforeAll(async () => {
      billing = await startFakeParticipant('billing');
      t = await startTestApp({
        WRITE_PROTOCOL: protocol,
        PARTICIPANTS: participantsConfig([billing]),
      });
    });
    afterAll(async () => {
      await t[Symbol.asyncDispose]();
      await billing[Symbol.asyncDispose]();
    });

    it('completes with its key shredded, a report that verifies and every change audited', async () => {
      const { id, name, cast } = await t.scheduled({ sessions: 2 });
      await t.app.runWorkerPass();

      const stored = await t.app.deps.requests.findById(id);
      expect(stored).toMatchObject({ state: 'COMPLETED', accountSynced: true });
      expect(stored?.subjectKeyDestroyedAt).not.toBeNull();
      expect(stored?.audited).toEqual(stored && everythingAudited(stored));
      expect(stored?.localErasure).toMatchObject({ accounts: 1, sessions: 0 });
      const publicKey = await (
        await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-key`)
      ).text();
      expect(
        verifyErasureReport(await t.client.getErasureReport({ name }, cast.self), publicKey),
      ).toBeTruthy();

      // Answers and notices are events of their own (audit-completeness.test.ts checks them).
      const events = (await t.app.audit.log.read(0, 1000)).filter(
        (event) =>
          event.deletionRequestId === id && ['STATE_CHANGED', 'KEY_DESTROYED'].includes(event.kind),
      );
      expect(events.map((event) => event.kind)).toEqual([
        ...stored!.history.map(() => 'STATE_CHANGED'),
        'KEY_DESTROYED',
      ]);
      expect(await verifyAuditChain(t.app.audit.log, t.app.audit.seal)).toMatchObject({
        intact: true,
      });
    });
  },
);
