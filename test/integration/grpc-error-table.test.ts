import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/domain/domain-error.js';
import { createGrpcServer, type GrpcServer } from '../../src/transports/grpc/grpc-server.js';
import { grpcStatusOf } from '../../src/transports/grpc/grpc-errors.js';
import { callError, createTestClient, type TestClient } from '../support/grpc-test-client.js';
import {
  domainErrorFor,
  seenOf,
  TABLE_RETRY_DELAY_MS,
  throwingService,
} from '../support/throwing-service.js';

const codes = Object.keys(grpcStatusOf) as ErrorCode[];
const wireCodes: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 3,
  UNAUTHENTICATED: 16,
  PERMISSION_DENIED: 7,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  DEADLINE_EXCEEDED: 4,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
};

describe('gRPC error table: every domain error code on the wire', () => {
  let server: GrpcServer;
  let client: TestClient;
  const { service, authenticate, thrown } = throwingService();
  beforeAll(async () => {
    server = createGrpcServer(service, {
      authenticate,
      logger: pino({ level: 'silent' }),
      reflection: false,
    });
    client = createTestClient(`127.0.0.1:${String(await server.listen('127.0.0.1', 0))}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('maps all twelve codes', () => {
    expect(codes.sort()).toEqual(Object.keys(wireCodes).sort());
  });

  it.each(codes)('sends %s with its reason and metadata, never the cause', async (code) => {
    thrown.next = domainErrorFor(code);
    const seen = seenOf(code);

    const error = await callError(client.getDeletionRequest({ name: 'deletionRequests/r1' }, null));

    expect(error.code).toBe(wireCodes[code]);
    expect(error.rich).toEqual({
      code: wireCodes[code],
      message: seen.message,
      reason: seen.reason,
      domain: 'deletion.v1',
      metadata: seen.metadata,
      fieldViolations:
        code === 'INVALID_ARGUMENT' ? [{ field: 'name', description: 'must be a name' }] : [],
      // RetryInfo: only when the error says when to try again.
      retryDelayMs: code === 'RESOURCE_EXHAUSTED' ? TABLE_RETRY_DELAY_MS : undefined,
    });
    expect(JSON.stringify(error)).not.toContain('secret-cause-text');
  });

  it('turns anything else thrown into INTERNAL without its message', async () => {
    thrown.next = new Error('db password is hunter2');
    const error = await callError(client.getDeletionRequest({ name: 'deletionRequests/r1' }, null));
    expect(error.code).toBe(13);
    expect(error.rich?.message).toBe('internal error');
    expect(error.message).not.toContain('hunter2');
  });
});
