import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import {
  isDeletionClientError,
  createDeletionClient as createTrpcClient,
  type DeletionClient as TrpcClient,
} from '../../clients/trpc/deletion-client.js';
import { CallError } from '../support/grpc-test-client.js';
import { adminAuth } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Page tokens are the one input a caller hands back that we made: any token
 * we did not issue (edited, forged, out of range) must be INVALID_ARGUMENT,
 * never INTERNAL, over both transports (issue 21, item 6).
 */

/** base64url of JSON text as written (so it can hold what JSON.stringify cannot: 1e400). */
const tokenOf = (json: string): string => Buffer.from(json).toString('base64url');
const decoded = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token, 'base64url').toString()) as Record<string, unknown>;

/** JSON text of a value a forger might put in a field: out of range, the wrong type, huge. */
const fieldValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e400',
    '-1e400',
    '1e308',
    '-1e308',
    '8640000000000001',
    '-8640000000000001',
    '9007199254740993',
    '-0',
    '0.5',
    'null',
    'true',
    '""',
    '[]',
    '{}',
    '{"$gt":0}',
    '"\\u0000"',
  ),
  fc.double().map((n) => (Number.isFinite(n) ? JSON.stringify(n) : '1e999')),
  fc.integer().map(String),
  fc.string({ maxLength: 40 }).map((text) => JSON.stringify(text)),
);

/** A real token's JSON with one field's value replaced by `value` (or a field added). */
const forged = (real: Record<string, unknown>, field: string, value: string): string => {
  const entries = Object.entries({ ...real, [field]: null }).map(([key, kept]) =>
    key === field
      ? `${JSON.stringify(key)}:${value}`
      : `${JSON.stringify(key)}:${JSON.stringify(kept)}`,
  );
  return tokenOf(`{${entries.join(',')}}`);
};

describe('page tokens a caller edits or forges', { timeout: 120_000 }, () => {
  let t: TestApp;
  let auth: { token: string };
  let trpc: TrpcClient;
  const real: Record<'requests' | 'audit', Record<string, unknown>> = { requests: {}, audit: {} };

  beforeAll(async () => {
    t = await startTestApp();
    for (let n = 0; n < 3; n += 1) await t.requested({ prefix: 'tokens' });
    auth = await adminAuth('admin-tokens');
    trpc = createTrpcClient({ url: t.trpcUrl, token: auth.token });
    // Each listing by an administrator is a privileged read: two events to page through.
    await t.client.listDeletionRequests({ pageSize: 1 }, auth);
    const requests = await t.client.listDeletionRequests({ pageSize: 1 }, auth);
    const audit = await t.client.listAuditEvents({ pageSize: 1 }, auth);
    real.requests = decoded(requests.nextPageToken);
    real.audit = decoded(audit.nextPageToken);
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  /** How each transport answers `pageToken` on `list`: gRPC's code name and tRPC's status. */
  const answers = async (list: 'requests' | 'audit', pageToken: string) => {
    const grpc =
      list === 'requests'
        ? t.client.listDeletionRequests({ pageSize: 1, pageToken }, auth)
        : t.client.listAuditEvents({ pageSize: 1, pageToken }, auth);
    const viaTrpc =
      list === 'requests'
        ? trpc.listDeletionRequests.query({ pageSize: 1, pageToken })
        : trpc.listAuditEvents.query({ pageSize: 1, pageToken });
    const grpcCode = await grpc.then(
      () => 'OK',
      (error: unknown) => (error instanceof CallError ? grpcCodeName(error.code) : String(error)),
    );
    const trpcStatus = await viaTrpc.then(
      () => 'OK',
      (error: unknown) =>
        isDeletionClientError(error) ? (error.data?.status ?? 'no status') : String(error),
    );
    return { grpc: grpcCode, trpc: trpcStatus };
  };

  it('answers a position beyond its range or an infinite one with INVALID_ARGUMENT', async () => {
    const invalid = { grpc: 'INVALID_ARGUMENT', trpc: 'INVALID_ARGUMENT' };
    // The last request's creation time: beyond a date's range, or infinite (1e400 in JSON).
    for (const value of ['1e400', '8640000000000001', '-1e400'])
      expect(await answers('requests', forged(real.requests, 'c', value))).toEqual(invalid);
    // The last event's sequence: infinite, negative, or past exact integers.
    for (const value of ['1e400', '-1', '9007199254740993'])
      expect(await answers('audit', forged(real.audit, 'a', value))).toEqual(invalid);
  });

  it('never answers INTERNAL to a token with any field edited, over either transport', async () => {
    const lists = ['requests', 'audit'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...lists),
        fc.nat(),
        fieldValue,
        async (list, pick, value) => {
          const fields = [...Object.keys(real[list]), 'extra'];
          const field = fields[pick % fields.length] ?? 'extra';
          const answer = await answers(list, forged(real[list], field, value));
          expect(['OK', 'INVALID_ARGUMENT']).toContain(answer.grpc);
          expect(['OK', 'INVALID_ARGUMENT']).toContain(answer.trpc);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers tokens that are not ours at all with INVALID_ARGUMENT', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fieldValue.map(tokenOf),
          fc.jsonValue().map((json) => tokenOf(JSON.stringify(json))),
        ),
        async (pageToken) => {
          fc.pre(pageToken.length > 0);
          const answer = await answers('requests', pageToken);
          expect(answer).toEqual({ grpc: 'INVALID_ARGUMENT', trpc: 'INVALID_ARGUMENT' });
        },
      ),
      { numRuns: 100 },
    );
  });
});
