import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import {
  ErasureReportInvalid,
  verifyErasureReport,
  verifyErasureReportWithKeySet,
  type ReportKeySet,
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
  let vault: FakeParticipant;
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
    // Keeps data and names no basis in its answer: the report gives its registered one.
    vault = await startFakeParticipant('vault', {
      outcome: {
        $case: 'retained',
        value: { legalBasis: '', categories: ['kyc'], until: undefined, erasedRecords: '0' },
      },
    });
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: participantsConfig([billing, archive, vault], {
        categories: { billing: ['profile', 'payment-methods'], archive: ['invoices'] },
        owners: {
          billing: { team: 'payments', webhook: 'https://hooks.example.test/payments' },
          archive: { team: 'finance' },
        },
        legalBasis: {
          archive: 'tax law: invoices are kept 10 years',
          vault: 'anti-money-laundering law: 5 years',
        },
      }),
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
    await archive[Symbol.asyncDispose]();
    await vault[Symbol.asyncDispose]();
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
    // What was erased, what was kept and why, and what each service holds as registered.
    expect(content.version).toBe(2);
    expect(content.participants).toEqual([
      expect.objectContaining({
        name: 'archive',
        outcome: 'RETAINED',
        records: 4,
        categories: ['invoices'],
        legalBasis: 'commercial law: invoices, 10 years',
        legalBasisSource: 'ANSWER',
        retainedUntil: '2036-12-31T00:00:00.000Z',
        registered: {
          team: 'finance',
          categories: ['invoices'],
          legalBasis: 'tax law: invoices are kept 10 years',
        },
      }),
      expect.objectContaining({
        name: 'billing',
        outcome: 'ERASED',
        records: 3,
        categories: ['profile'],
        legalBasis: null,
        registered: {
          team: 'payments',
          categories: ['profile', 'payment-methods'],
          legalBasis: null,
        },
      }),
      expect.objectContaining({
        name: 'vault',
        outcome: 'RETAINED',
        categories: ['kyc'],
        legalBasis: 'anti-money-laundering law: 5 years',
        legalBasisSource: 'REGISTRATION',
        retainedUntil: null,
        registered: {
          team: null,
          categories: [],
          legalBasis: 'anti-money-laundering law: 5 years',
        },
      }),
    ]);
    // The registration's webhook stays out of the report.
    expect(report.payload).not.toContain('hooks.example.test');
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

describe('the report key set, across a key rotation', () => {
  const pem = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  };

  /** A request of a new subject taken to COMPLETED on `t`; its signed report. */
  const completedReport = async (t: TestApp) => {
    const { cast, name } = await t.scheduled();
    await t.app.runWorkerPass();
    return t.client.getErasureReport({ name }, cast.self);
  };

  const keySetOf = async (t: TestApp): Promise<ReportKeySet> =>
    (await (
      await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-keys`)
    ).json()) as ReportKeySet;

  it('verifies a report signed before the rotation with the set published after it', async () => {
    const [old, next] = [pem(), pem()];
    const before = await startTestApp(
      { GRACE_PERIOD_SECONDS: '0', REPORT_SIGNING_KEY: old.privateKey },
      { keepDatabase: true },
    );
    let signedBefore;
    try {
      signedBefore = await completedReport(before);
    } finally {
      await before[Symbol.asyncDispose]();
    }
    const rotatedAt = new Date(Date.now() + 1000).toISOString();
    const after = await startTestApp(
      {
        GRACE_PERIOD_SECONDS: '0',
        REPORT_SIGNING_KEY: next.privateKey,
        REPORT_SIGNING_KEY_SINCE: rotatedAt,
        REPORT_PREVIOUS_KEYS: JSON.stringify([{ publicKey: old.publicKey, validUntil: rotatedAt }]),
      },
      { dbName: before.dbName },
    );
    try {
      const keySet = await keySetOf(after);
      expect(keySet.keys).toEqual([
        expect.objectContaining({ current: true, validFrom: rotatedAt, validUntil: null }),
        expect.objectContaining({ current: false, validFrom: null, validUntil: rotatedAt }),
      ]);
      expect(keySet.keys[1]?.keyId).toBe(signedBefore.keyId);
      // Saved once, the set verifies offline: the report signed before, and one signed after.
      const saved = JSON.parse(JSON.stringify(keySet)) as ReportKeySet;
      expect(verifyErasureReportWithKeySet(signedBefore, saved).completedAt).toBeTruthy();
      after.clock.advance(2000);
      const signedAfter = await completedReport(after);
      expect(signedAfter.keyId).toBe(keySet.keys[0]?.keyId);
      expect(verifyErasureReportWithKeySet(signedAfter, saved).completedAt).toBeTruthy();
      // Without the new key, or with the old one's validity ended before it signed, it does not.
      expect(() =>
        verifyErasureReportWithKeySet(signedAfter, { keys: saved.keys.slice(1) }),
      ).toThrow(ErasureReportInvalid);
      const retiredEarly = saved.keys.map((key) =>
        key.keyId === signedBefore.keyId ? { ...key, validUntil: '2000-01-01T00:00:00Z' } : key,
      );
      expect(() => verifyErasureReportWithKeySet(signedBefore, { keys: retiredEarly })).toThrow(
        /dated after its key stopped signing/,
      );
    } finally {
      await after[Symbol.asyncDispose]();
    }
  });
});
