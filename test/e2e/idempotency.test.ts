import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('idempotent RequestDeletion (AIP-155 request_id)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('answers a retry with the same request_id with the same response', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const requestId = randomUUID();

    const first = await t.client.requestDeletion(
      { subjectId, reason: 'gdpr', requestId },
      cast.service,
    );
    const second = await t.client.requestDeletion(
      { subjectId, reason: 'gdpr', requestId },
      cast.service,
    );

    expect(second).toEqual(first);
    expect(await t.count('deletion_requests', { subjectId })).toBe(1);
    expect(t.smtp.messages.filter((m) => m.to.includes(t.emailOf(subjectId)))).toHaveLength(1);
  });

  it('refuses a reused request_id with other parameters (INVALID_ARGUMENT)', async () => {
    const subjectId = newSubjectId();
    const other = newSubjectId();
    await t.seedAccount({ id: subjectId });
    await t.seedAccount({ id: other });
    const cast = await castFor(subjectId);
    const requestId = randomUUID();
    await t.client.requestDeletion({ subjectId, requestId }, cast.service);

    const error = await callError(
      t.client.requestDeletion({ subjectId: other, requestId }, cast.service),
    );

    expect(error.code).toBe(3);
    expect(error.reason).toBe('REQUEST_ID_REUSED');
    expect(error.rich?.fieldViolations[0]?.field).toBe('request_id');
    expect(await t.count('deletion_requests', { subjectId: other })).toBe(0);
  });

  it('scopes request_id per caller', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const requestId = randomUUID();
    await t.client.requestDeletion({ subjectId, requestId }, cast.service);

    const error = await callError(t.client.requestDeletion({ subjectId, requestId }, cast.admin));

    expect(error.reason).toBe('DELETION_ALREADY_ACTIVE');
  });

  it('creates exactly one request from 50 concurrent duplicates', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const requestId = randomUUID();

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        t.client.requestDeletion({ subjectId, reason: 'x', requestId }, cast.service),
      ),
    );

    const names = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.name] : [])));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(names.size).toBe(1);
    expect(await t.count('deletion_requests', { subjectId })).toBe(1);
    expect(t.smtp.messages.filter((m) => m.to.includes(t.emailOf(subjectId)))).toHaveLength(1);
  });

  it('allows only one active request from 20 concurrent requests without request_id', async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => t.client.requestDeletion({ subjectId }, cast.self)),
    );

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.map((r) => (r.reason as { reason: string }).reason)).toEqual(
      Array.from({ length: 19 }, () => 'DELETION_ALREADY_ACTIVE'),
    );
    expect(await t.count('deletion_requests', { subjectId })).toBe(1);
  });
});
