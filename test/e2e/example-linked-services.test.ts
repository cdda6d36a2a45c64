import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyErasureReport } from '../../clients/erasure-report/verify-erasure-report.js';
import {
  startLinkedServices,
  type LinkedServices,
} from '../../examples/linked-services/start-linked-services.js';
import { newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

/** The examples `npm start` runs, as the service's participants: one full fan-out. */
describe('example linked services', () => {
  const subjectId = newSubjectId('example');
  let services: LinkedServices;
  let t: TestApp;

  beforeAll(async () => {
    let grpcPort = 0;
    services = await startLinkedServices({
      subjects: [subjectId],
      deletionService: () => `127.0.0.1:${String(grpcPort)}`,
      token: () => mintToken({ sub: 'analytics', scope: 'deletion:participant', service: true }),
      analyticsJobDelayMs: 50,
    });
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: JSON.stringify(services.participants),
    });
    grpcPort = t.ports.grpc;
  });

  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await services.close();
  });

  it('suspend, erase (retained, erased, accepted then reported) and a signed report', async () => {
    const { id, name, cast } = await t.scheduled({ id: subjectId });
    const stored = async () => (await t.app.deps.requests.findById(id))!;

    // The pass sends Suspend (billing, messaging: analytics takes part in the purge only),
    // then purges: billing and messaging answer, analytics waits for messaging, then accepts.
    await t.app.runWorkerPass();
    expect((await stored()).notices).toBeNull();
    expect((await stored()).participants).toMatchObject({
      billing: { status: 'DONE', outcome: { kind: 'RETAINED', erasedRecords: 2 } },
      messaging: { status: 'DONE', outcome: { kind: 'ERASED', records: 43 } },
      analytics: { status: 'ACCEPTED' },
    });
    expect((await stored()).state).toBe('ERASING');

    // Analytics' batch job reports through ReportErasureOutcome as itself (50 ms after it
    // accepted; on a loaded machine the call can take seconds more than that).
    await vi.waitFor(
      async () => expect((await stored()).participants.analytics?.status).toBe('DONE'),
      { timeout: 20_000, interval: 50 },
    );
    await t.app.runWorkerPass();
    expect((await stored()).state).toBe('COMPLETED');

    const publicKey = await (
      await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-key`)
    ).text();
    const report = verifyErasureReport(
      await t.client.getErasureReport({ name }, cast.self),
      publicKey,
    );
    expect(report.participants).toEqual([
      expect.objectContaining({ name: 'analytics', outcome: 'ERASED', records: 250 }),
      expect.objectContaining({
        name: 'billing',
        outcome: 'RETAINED',
        records: 2,
        categories: ['invoices'],
        legalBasis: expect.stringMatching(/^Tax law/) as string,
      }),
      expect.objectContaining({
        name: 'messaging',
        outcome: 'ERASED',
        records: 43,
        categories: ['messages', 'attachments'],
      }),
    ]);
  });
});
