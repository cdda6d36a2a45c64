import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ErasureReportInvalid,
  verifyErasureReport,
} from '../../clients/erasure-report/verify-erasure-report.js';
import { callError } from '../support/grpc-test-client.js';
import {
  startFakeParticipant,
  participantsConfig,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('signed erasure report', () => {
  let t: TestApp;
  let billing: FakeParticipant;
  let archive: FakeParticipant;
  beforeAll(async () => {
    billing = await startFakeParticipant('billing');
    archive = await startFakeParticipant('archive', {
      outcome: {
        $case: 'retained',
        value: {
          legalBasis: 'commercial law: invoices, 10 years',
          categories: ['invoices'],
          until: new Date('2036-12-31T00:00:00Z'),
          erasedRecords: '4',
        },
      },
    });
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: participantsConfig([billing, archive]),
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
    await archive[Symbol.asyncDispose]();
  });

  const completed = () => t.scheduled({ sessions: 3, tokens: 2 });

  it('is refused before the erasure completed', async () => {
    const { cast, name } = await completed();
    expect((await callError(t.client.getErasureReport({ name }, cast.self))).reason).toBe(
      'NOT_COMPLETED',
    );
  });

  it('states every outcome and the local erasure, and verifies with the published key', async () => {
    const { subjectId, cast, name } = await completed();
    await t.app.runWorkerPass();
    const publicKey = await (
      await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-key`)
    ).text();

    const report = await t.client.getErasureReport({ name }, cast.self);
    const content = verifyErasureReport(report, publicKey);

    expect(report.algorithm).toBe('Ed25519');
    expect(content).toMatchObject({
      deletionRequest: name,
      subjectId,
      // Sessions and tokens were revoked at soft delete already; the purge found none left.
      local: { accounts: 1, sessions: 0, apiTokens: 0 },
    });
    expect(content.participants).toEqual([
      expect.objectContaining({
        name: 'archive',
        outcome: 'RETAINED',
        records: 4,
        legalBasis: 'commercial law: invoices, 10 years',
        retainedUntil: '2036-12-31T00:00:00.000Z',
      }),
      expect.objectContaining({
        name: 'billing',
        outcome: 'ERASED',
        records: 3,
        categories: ['profile'],
      }),
    ]);
  });

  it('does not verify once a byte is changed, or with another key', async () => {
    const { cast, name } = await completed();
    await t.app.runWorkerPass();
    const publicKey = await (
      await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-key`)
    ).text();
    const report = await t.client.getErasureReport({ name }, cast.admin);

    const tampered = { ...report, payload: report.payload.replace('"ERASED"', '"NOTHING_FOUND"') };
    expect(() => verifyErasureReport(tampered, publicKey)).toThrow(ErasureReportInvalid);
    const { publicKey: otherKey } = await import('node:crypto').then((c) =>
      c.generateKeyPairSync('ed25519'),
    );
    expect(() =>
      verifyErasureReport(report, otherKey.export({ type: 'spki', format: 'pem' }).toString()),
    ).toThrow(ErasureReportInvalid);
    expect(() =>
      verifyErasureReport(
        { ...report, keyId: undefined as never },
        otherKey.export({ type: 'spki', format: 'pem' }).toString(),
      ),
    ).toThrow(/signature/);
  });
});
