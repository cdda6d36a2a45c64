import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { callError } from '../support/grpc-test-client.js';
import { trpcFailure } from '../support/trpc-failure.js';
import { installInMemoryTelemetry } from '../support/in-memory-telemetry.js';
import { adminAuth, castFor, participantAuth } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// One SDK for the file: the service's tracers keep the provider they first used.
let telemetry: ReturnType<typeof installInMemoryTelemetry>;
beforeAll(() => {
  telemetry = installInMemoryTelemetry();
});
afterAll(() => {
  telemetry.uninstall();
});

const tag = randomBytes(4).toString('hex');
/** Values that exist nowhere else: if one shows up, it leaked. Mixed case, so lower-casing is a form of its own. */
const canaries = {
  subjectId: `Canary-Subject-${tag}`,
  email: `Canary.Mail.${tag}@example.test`,
  phone: `+49151${String(parseInt(tag, 16)).padStart(10, '0').slice(0, 8)}`,
  name: `Zelda Canaryfield${tag}`,
};

/** Every form a canary could leak in: as it is, lower-cased, base64 and base64url. */
const formsOf = (value: string): string[] => [
  value,
  value.toLowerCase(),
  Buffer.from(value).toString('base64'),
  Buffer.from(value).toString('base64url'),
];

/** The canaries (in any form) that `text` contains. */
const leaksIn = (text: string): string[] =>
  Object.entries(canaries).flatMap(([what, value]) =>
    formsOf(value)
      .filter((form) => text.includes(form))
      .map((form) => `${what} as ${form}`),
  );

describe('PII canary: a whole deletion leaves no personal data in logs, traces, metrics, errors or the audit log', () => {
  let t: TestApp;
  let billing: FakeParticipant;
  const logLines: string[] = [];

  beforeAll(async () => {
    billing = await startFakeParticipant('billing');
    // Every level, so that debug and trace lines are searched too.
    const logger = pino({ level: 'trace' }, { write: (line: string) => logLines.push(line) });
    t = await startTestApp(
      { PARTICIPANTS: participantsConfig([billing]), LOG_LEVEL: 'trace' },
      { logger },
    );
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
  });

  it('runs a full lifecycle with unique canary values, and finds none of them anywhere they must not be', async () => {
    const { subjectId, email, phone, name } = canaries;
    await t.app.connection.collection('accounts').insertOne({
      _id: subjectId as never,
      email,
      phone,
      name,
      roles: ['member'],
      flagged: false,
      jurisdiction: 'GDPR',
      locale: 'en',
      status: 'ACTIVE',
    });
    await t.app.connection.collection('sessions').insertOne({ subjectId, device: name });
    const cast = await castFor(subjectId);
    const admin = await adminAuth('admin-canary');
    const trpcSelf = createTrpcClient({ url: t.trpcUrl, token: cast.self.token });

    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion(
      { subjectId, reason: `I am ${name}, reach me at ${email} or ${phone}` },
      cast.self,
    );
    const code = await t.smtp.waitForCode(email, since);
    // Refusals that name the subject, its request or its data.
    const stranger = { token: await mintToken({ sub: 'someone-else', scope: 'deletion:self' }) };
    const grpcRefusals = [
      await callError(t.client.confirmDeletion({ name: created.name, code: '000000' }, cast.self)),
      await callError(t.client.requestDeletion({ subjectId }, cast.self)),
      await callError(t.client.requestDeletion({ subjectId: `${subjectId}-x` }, cast.service)),
      await callError(t.client.requestDeletion({ subjectId }, stranger)),
    ];
    const trpcRefusal = await trpcFailure(
      trpcSelf.listDeletionRequests.query({ subjectId: `${subjectId}-other` }),
    );
    expect(grpcRefusals.map((refusal) => refusal.reason)).toEqual([
      'CODE_INVALID',
      'DELETION_ALREADY_ACTIVE',
      'ACCOUNT_NOT_FOUND',
      'PERMISSION_DENIED',
    ]);
    expect(trpcRefusal.data?.code).toBe('FORBIDDEN');
    await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    // Reads over both transports (tRPC GET puts the input, subject id included, in the URL).
    await trpcSelf.listDeletionRequests.query({ subjectId });
    await t.client.getDeletionRequest({ name: created.name }, admin);
    await t.client.listDeletionRequests({ subjectId }, cast.service);

    const pass = await t.app.runWorkerPass();
    expect(pass.completed).toBe(1);
    await t.app.runWorkerPass();
    expect(billing.effects.size).toBe(1);
    await t.client.getErasureReport({ name: created.name }, cast.self);
    await t.client.checkErasedSubjects(
      { participant: 'billing', subjectIds: [subjectId] },
      await participantAuth('billing'),
    );
    const listed = await t.client.listAuditEvents({ subjectId }, admin);
    expect(listed.auditEvents.length).toBeGreaterThan(3);
    // The final notice went to the canary address: the one place it belongs.
    expect(t.smtp.messages.some((message) => message.to.includes(email))).toBe(true);

    // Logs: every line at every level.
    expect(logLines.length).toBeGreaterThan(0);
    expect(leaksIn(logLines.join('\n'))).toEqual([]);
    // Spans: names, attributes, events, status messages, links.
    const spans = telemetry.exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(20);
    const spanText = JSON.stringify(
      spans.map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
        status: span.status,
        links: span.links.map((link) => link.attributes),
      })),
    );
    expect(leaksIn(spanText)).toEqual([]);
    // Metrics: every label of every point.
    const collected = await telemetry.collect();
    const metricText = JSON.stringify(
      collected.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((metric) => ({
          name: metric.descriptor.name,
          labels: metric.dataPoints.map((point) => point.attributes),
        })),
      ),
    );
    expect(metricText).toContain('deletion.transitions');
    expect(leaksIn(metricText)).toEqual([]);
    // What refused callers were told.
    const told = [
      ...grpcRefusals.flatMap((refusal) => [refusal.message, JSON.stringify(refusal.rich)]),
      trpcRefusal.message,
      JSON.stringify(trpcRefusal.data),
    ];
    expect(leaksIn(told.join('\n'))).toEqual([]);
    // The audit log: as stored, its details decrypted, and as administrators list it.
    const { log, seal } = t.app.audit;
    const events = await log.read(0, 10_000);
    const auditText = JSON.stringify([
      events,
      events.map((event) => seal.open(event.sealedDetails)),
      listed,
    ]);
    expect(leaksIn(auditText)).toEqual([]);
  });

  it('would see a leak: the check finds each canary in each form', () => {
    for (const value of Object.values(canaries)) {
      for (const form of formsOf(value)) expect(leaksIn(`… ${form} …`)).not.toEqual([]);
    }
  });
});
