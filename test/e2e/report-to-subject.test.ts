import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  verifyErasureReportWithKeySet,
  type ReportKeySet,
  type SignedReport,
} from '../../clients/erasure-report/verify-erasure-report.js';
import { mimeParts } from '../support/mime.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY_MS = 86_400_000;

/**
 * The subject's account is gone when the erasure completes, so the proof
 * reaches them with the last message: the signed report attached to the
 * e-mail, and a link that works without an account, expiring, for that
 * report only.
 */
describe('the erasure report in the subject’s hands', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      // The port is the test's own: links are read from the mail and sent to it.
      NOTICE_REPORT_URL: 'http://reports.example.test/erasure-reports/{request}?token={token}',
      REPORT_LINK_DAYS: '7',
    });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const base = () => `http://127.0.0.1:${String(t.ports.http)}`;
  const keySet = async () =>
    (await (await fetch(`${base()}/erasure-report-keys`)).json()) as ReportKeySet;

  /** The completion mail of a new subject's deletion: its parts, decoded. */
  const completionMail = async () => {
    const request = await t.scheduled();
    await t.app.runWorkerPass();
    const mail = t.smtp.messages.find(
      (message) =>
        message.to.includes(t.emailOf(request.subjectId)) &&
        message.raw.includes('Subject: Your account has been deleted'),
    );
    expect(mail).toBeDefined();
    return { request, parts: mimeParts(mail!.raw) };
  };

  it('attaches the signed report to the completion e-mail; the copy verifies offline', async () => {
    const { request, parts } = await completionMail();
    const attachment = parts.find((part) =>
      (part.headers['content-disposition'] ?? '').includes('erasure-report.json'),
    );
    expect(attachment?.headers['content-type']).toMatch(/^application\/json/);
    const delivered = JSON.parse(attachment!.body) as SignedReport & { name: string };
    expect(delivered.name).toBe(request.name);

    const content = verifyErasureReportWithKeySet(delivered, await keySet());
    expect(content).toMatchObject({ deletionRequest: request.name, subjectId: request.subjectId });
    // The same report the service keeps: the copy is not a second, different one.
    const kept = await t.client.getErasureReport({ name: request.name }, request.cast.admin);
    expect(delivered.payload).toBe(kept.payload);
    expect(delivered.signature).toBe(kept.signature);
  });

  it('links to the report without an account; the link serves that report only, and expires', async () => {
    const { request, parts } = await completionMail();
    const text = parts.find((part) =>
      (part.headers['content-type'] ?? '').startsWith('text/plain'),
    );
    const link = /http:\/\/reports\.example\.test(\/erasure-reports\/\S+)/.exec(text!.body)?.[1];
    expect(link).toBeDefined();
    const url = new URL(`${base()}${link!}`);

    const served = await fetch(url);
    expect(served.status).toBe(200);
    const report = (await served.json()) as SignedReport & { name: string };
    expect(report.name).toBe(request.name);
    expect(verifyErasureReportWithKeySet(report, await keySet()).subjectId).toBe(request.subjectId);

    // Another request's report with this token, or a token changed by one character: nothing.
    const other = await completionMail();
    const forOther = new URL(url);
    forOther.pathname = `/erasure-reports/${other.request.id}`;
    const token = url.searchParams.get('token')!;
    // Its last character, and a character whose every bit counts (the MAC's first).
    const dot = token.indexOf('.');
    const flip = (at: number) =>
      `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const tampered = new URL(url);
    tampered.searchParams.set('token', flip(token.length - 1));
    const tamperedFirst = new URL(url);
    tamperedFirst.searchParams.set('token', flip(dot + 1));
    for (const wrong of [forOther, tampered, tamperedFirst]) {
      const refused = await fetch(wrong);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toEqual({ error: 'no report at this link' });
    }
    // A week on (REPORT_LINK_DAYS), the link no longer works.
    t.clock.advance(7 * DAY_MS + 1000);
    expect((await fetch(url)).status).toBe(404);
  });
});
