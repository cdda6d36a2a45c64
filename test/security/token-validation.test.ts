import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castFor, newSubjectId } from '../support/principals.js';
import { refusal, scenarioClient, type Transport } from '../support/scenario-clients.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken, TEST_ISSUER } from '../support/tokens.js';

const unsigned = (claims: Record<string, unknown>): string =>
  [
    Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
    Buffer.from(JSON.stringify(claims)).toString('base64url'),
    '',
  ].join('.');

/** Tokens that must not get in, each otherwise fit to read the subject's own request. */
const badTokens = (subjectId: string): [string, () => Promise<string>][] => {
  const fit = { sub: subjectId, scope: 'deletion:self' };
  return [
    ['no token', () => Promise.resolve('')],
    ['an expired token', () => mintToken({ ...fit, expiresInSeconds: -120 })],
    [
      'alg none',
      () =>
        Promise.resolve(
          unsigned({
            ...fit,
            iss: TEST_ISSUER,
            exp: Math.floor(Date.now() / 1000) + 600,
          }),
        ),
    ],
    ['a wrong issuer', () => mintToken({ ...fit, issuer: 'https://evil.test/' })],
    ['a wrong audience', () => mintToken({ ...fit, audience: 'another-service' })],
    [
      'a foreign key',
      () => mintToken({ ...fit, secret: 'a-key-the-service-never-trusted-0123456789' }),
    ],
    ['garbage', () => Promise.resolve('not-a-jwt')],
  ];
};

describe.each<Transport>(['grpc', 'trpc'])('token validation over %s', (transport) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('refuses every bad token with UNAUTHENTICATED, the same answer whether the request exists or not', async () => {
    const client = scenarioClient(transport, t);
    const subjectId = newSubjectId('tokens');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const existing = await client.request({ subjectId }, cast.self);
    const missing = `deletionRequests/${randomUUID()}`;
    // A good reader's token tells the two apart: the request, or NOT_FOUND.
    expect((await client.get({ name: existing.name }, cast.service)).name).toBe(existing.name);
    expect((await refusal(client.get({ name: missing }, cast.service))).status).toBe('NOT_FOUND');

    const answers = new Map<string, unknown>();
    for (const [label, make] of badTokens(subjectId)) {
      const token = await make();
      const [forExisting, forMissing] = [
        await refusal(client.get({ name: existing.name }, { token })),
        await refusal(client.get({ name: missing }, { token })),
      ];
      expect(forExisting.status, label).toBe('UNAUTHENTICATED');
      const answerOf = (error: typeof forExisting) => ({
        status: error.status,
        reason: error.reason,
        metadata: error.metadata,
        fields: error.fields,
      });
      expect(answerOf(forMissing), label).toEqual(answerOf(forExisting));
      answers.set(label, answerOf(forExisting));
    }
    // Every bad token, but the absent one, gets one generic answer: which check failed is not said.
    const presented = [...answers].filter(([label]) => label !== 'no token');
    expect(new Set(presented.map(([, answer]) => JSON.stringify(answer))).size).toBe(1);
    expect(presented[0]![1]).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    // Nothing changed for the refused calls.
    expect((await client.get({ name: existing.name }, cast.self)).state).toBe('REQUESTED');
  });
});
