import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient, type DeletionClient } from '../../clients/trpc/deletion-client.js';
import type { ErrorCode } from '../../src/domain/domain-error.js';
import { createHttpServer, type HttpServer } from '../../src/transports/http/http-server.js';
import { createTrpcHandler } from '../../src/transports/trpc/trpc-handler.js';
import { trpcCodeOf } from '../../src/transports/trpc/trpc-errors.js';
import { domainErrorFor, seenOf, throwingService } from '../support/throwing-service.js';
import { trpcFailure } from '../support/trpc-failure.js';

const codes = Object.keys(trpcCodeOf) as ErrorCode[];
/** What a tRPC caller sees for each domain code: the tRPC code and the HTTP status. */
const wire: Record<ErrorCode, [string, number]> = {
  INVALID_ARGUMENT: ['BAD_REQUEST', 400],
  UNAUTHENTICATED: ['UNAUTHORIZED', 401],
  PERMISSION_DENIED: ['FORBIDDEN', 403],
  NOT_FOUND: ['NOT_FOUND', 404],
  ALREADY_EXISTS: ['CONFLICT', 409],
  FAILED_PRECONDITION: ['PRECONDITION_FAILED', 412],
  ABORTED: ['CONFLICT', 409],
  RESOURCE_EXHAUSTED: ['TOO_MANY_REQUESTS', 429],
  UNAVAILABLE: ['SERVICE_UNAVAILABLE', 503],
  DEADLINE_EXCEEDED: ['TIMEOUT', 408],
  UNIMPLEMENTED: ['NOT_IMPLEMENTED', 501],
  INTERNAL: ['INTERNAL_SERVER_ERROR', 500],
};

describe('tRPC error table: every domain error code on the wire', () => {
  let server: HttpServer;
  let url: string;
  let client: DeletionClient;
  const { service, authenticate, thrown } = throwingService();
  beforeAll(async () => {
    server = createHttpServer({
      ready: () => Promise.resolve(true),
      reportKey: '',
      reportKeys: { keys: [] },
      mailbox: undefined,
      trpc: createTrpcHandler(service, {
        authenticate,
        router: { watchStreamMs: 60_000 },
        logger: pino({ level: 'silent' }),
      }),
    });
    url = `http://127.0.0.1:${String(await server.listen('127.0.0.1', 0))}/trpc`;
    client = createDeletionClient({ url, batch: false });
  });
  afterAll(async () => server.close());

  it('maps all twelve codes', () => {
    expect(codes.sort()).toEqual(Object.keys(wire).sort());
  });

  it.each(codes)('sends %s with its reason and metadata, never the cause', async (code) => {
    thrown.next = domainErrorFor(code);
    const seen = seenOf(code);

    const response = await fetch(`${url}/cancelDeletion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'deletionRequests/r1' }),
    });
    const text = await response.text();
    const error = await trpcFailure(
      client.getDeletionRequest.query({ name: 'deletionRequests/r1' }),
    );

    const [trpcCode, httpStatus] = wire[code];
    expect(response.status).toBe(httpStatus);
    // Retry-After (whole seconds, rounded up): only when the error says when to try again.
    expect(response.headers.get('retry-after')).toBe(code === 'RESOURCE_EXHAUSTED' ? '3' : null);
    expect(JSON.parse(text)).toEqual({
      error: {
        message: seen.message,
        code: expect.any(Number) as number,
        data: {
          code: trpcCode,
          httpStatus,
          path: 'cancelDeletion',
          status: code,
          reason: seen.reason,
          metadata: seen.metadata,
          fieldErrors: code === 'INVALID_ARGUMENT' ? { name: ['must be a name'] } : {},
        },
      },
    });
    expect(text).not.toMatch(/secret-cause-text|stack/);
    expect(error.message).toBe(seen.message);
    expect(error.data).toMatchObject({ code: trpcCode, status: code, reason: seen.reason });
  });

  it('turns anything else thrown into INTERNAL without its message', async () => {
    thrown.next = new Error('db password is hunter2');

    const error = await trpcFailure(
      client.getDeletionRequest.query({ name: 'deletionRequests/r1' }),
    );

    expect(error.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', reason: 'INTERNAL' });
    expect(error.message).toBe('internal error');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it('answers an unknown procedure and a malformed body in the same vocabulary', async () => {
    const unknown = await fetch(`${url}/dropDatabase`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const malformed = await fetch(`${url}/cancelDeletion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });

    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { data: object } }).error.data).toMatchObject({
      status: 'UNIMPLEMENTED',
      reason: 'NOT_FOUND',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { data: object } }).error.data).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'BAD_REQUEST',
    });
  });
});
