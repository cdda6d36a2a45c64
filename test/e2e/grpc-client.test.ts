import { randomUUID } from 'node:crypto';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeletionClient,
  DeletionServiceError,
  type DeletionClient,
} from '../../clients/grpc/deletion-client.js';
import {
  DeletionRequest,
  DeletionRequest_State as State,
} from '../../src/gen/deletion/v1/deletion_request.js';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { ErrorInfo, RetryInfo } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { createTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Awaits a call that must fail and returns its decoded error. */
const failure = async (promise: Promise<unknown>): Promise<DeletionServiceError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeletionServiceError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
};

describe('clients/grpc against the running service', () => {
  let t: TestApp;
  let client: DeletionClient;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '86400' });
    client = createDeletionClient({ address: `127.0.0.1:${String(t.ports.grpc)}` });
  });
  afterAll(async () => {
    client.close();
    await t[Symbol.asyncDispose]();
  });

  it('runs a deletion and its undelete, with a token fetched for every call', async () => {
    const subjectId = newSubjectId('client');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    let tokens = 0;
    const auth = {
      token: () => {
        tokens += 1;
        return cast.self.token;
      },
    };
    const created = await client.requestDeletion({ subjectId, requestId: randomUUID() }, { auth });
    const code = await t.smtp.waitForCode(t.emailOf(subjectId));
    const scheduled = await client.confirmDeletion({ name: created.name, code }, { auth });
    expect(scheduled.state).toBe(State.STATE_SCHEDULED);
    await client.undeleteDeletionRequest({ name: created.name }, { auth });

    const restored = await client.getDeletionRequest({ name: created.name }, { auth });
    expect(restored.state).toBe(State.STATE_RESTORED);
    const listed = await client.listDeletionRequests({ subjectId }, { auth });
    expect(listed.deletionRequests.map((request) => request.name)).toEqual([created.name]);
    expect(tokens).toBe(5);
  });

  it('decodes the rich error: code, reason, metadata and field violations', async () => {
    const { self, service } = await castFor(newSubjectId('client'));
    const missing = await failure(
      client.getDeletionRequest({ name: `deletionRequests/${randomUUID()}` }, { auth: service }),
    );
    expect(missing).toMatchObject({ code: 'NOT_FOUND', reason: 'DELETION_REQUEST_NOT_FOUND' });

    const invalid = await failure(client.requestDeletion({ subjectId: '' }, { auth: self }));
    expect(invalid.code).toBe('INVALID_ARGUMENT');
    expect(invalid.fieldViolations.map((violation) => violation.field)).toContain('subject_id');

    expect(await failure(client.listDeletionRequests({}))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('fails DEADLINE_EXCEEDED when the per-call deadline passes', async () => {
    const { self } = await castFor(newSubjectId('client'));
    const late = await failure(client.listDeletionRequests({}, { auth: self, deadlineMs: 1 }));
    expect(late.code).toBe('DEADLINE_EXCEEDED');
  });
});

/** A DeletionService that fails as told and counts calls, over plaintext or TLS. */
const startFlakyService = async (tls?: TestCertificates) => {
  const calls: Record<string, number> = {};
  let unavailableFirst = 0;
  const answer =
    (method: string) =>
    (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      calls[method] = (calls[method] ?? 0) + 1;
      if (method === 'listDeletionRequests') {
        const details = Status.encode({
          code: status.RESOURCE_EXHAUSTED,
          message: 'slow down',
          details: [
            {
              typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo',
              value: Buffer.from(
                ErrorInfo.encode({
                  reason: 'RATE_LIMITED',
                  domain: 'deletion.v1',
                  metadata: { limit: 'principal' },
                }).finish(),
              ),
            },
            {
              typeUrl: 'type.googleapis.com/google.rpc.RetryInfo',
              value: Buffer.from(
                RetryInfo.encode({ retryDelay: { seconds: '2', nanos: 500_000_000 } }).finish(),
              ),
            },
          ],
        }).finish();
        const metadata = new Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(details));
        callback({ code: status.RESOURCE_EXHAUSTED, details: 'slow down', metadata });
        return;
      }
      if ((calls[method] ?? 0) <= unavailableFirst) {
        callback({ code: status.UNAVAILABLE, details: 'try again' });
        return;
      }
      if (method === 'cancelDeletion') return; // never answers: the caller cancels
      callback(null, DeletionRequest.fromPartial({ name: 'deletionRequests/x' }));
    };
  const server = new Server();
  server.addService(
    DeletionServiceService,
    Object.fromEntries(Object.keys(DeletionServiceService).map((name) => [name, answer(name)])),
  );
  const credentials = tls
    ? ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(tls.server.cert), private_key: Buffer.from(tls.server.key) },
      ])
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${String(port)}`,
    calls,
    failFirst: (count: number) => {
      unavailableFirst = count;
      for (const key of Object.keys(calls)) calls[key] = 0;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
};

describe('clients/grpc retries, cancellation and TLS', () => {
  let service: Awaited<ReturnType<typeof startFlakyService>>;
  let client: DeletionClient;
  beforeAll(async () => {
    service = await startFlakyService();
    client = createDeletionClient({
      address: service.address,
      auth: { apiKey: 'key' },
      retry: { attempts: 3, baseMs: 5, capMs: 20 },
    });
  });
  afterAll(async () => {
    client.close();
    await service.close();
  });

  it('retries an idempotent call that failed UNAVAILABLE, up to its attempts', async () => {
    service.failFirst(2);
    await client.getDeletionRequest({ name: 'deletionRequests/x' });
    expect(service.calls.getDeletionRequest).toBe(3);

    service.failFirst(3);
    expect(await failure(client.getErasureReport({ name: 'deletionRequests/x' }))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(service.calls.getErasureReport).toBe(3);
  });

  it('never retries a call that is not idempotent', async () => {
    service.failFirst(1);
    expect(await failure(client.approveDeletion({ name: 'deletionRequests/x' }))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await failure(client.requestDeletion({ subjectId: 'a' }))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(service.calls).toMatchObject({ approveDeletion: 1, requestDeletion: 1 });

    service.failFirst(1); // with a request id, RequestDeletion is idempotent (AIP-155)
    await client.requestDeletion({ subjectId: 'a', requestId: randomUUID() });
    expect(service.calls.requestDeletion).toBe(2);
  });

  it('decodes RetryInfo, and cancels a call when its signal aborts', async () => {
    const limited = await failure(client.listDeletionRequests({}));
    expect(limited).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      reason: 'RATE_LIMITED',
      metadata: { limit: 'principal' },
      retryDelayMs: 2500,
    });

    service.failFirst(0);
    const controller = new AbortController();
    const pending = client.cancelDeletion(
      { name: 'deletionRequests/x' },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    expect((await failure(pending)).code).toBe('CANCELLED');
  });

  it('speaks TLS with the CA it is given, and refuses a server it cannot verify', async () => {
    using certificates = createTestCertificates();
    const secure = await startFlakyService(certificates);
    const trusting = createDeletionClient({
      address: secure.address,
      tls: { ca: certificates.ca.cert },
    });
    const trustingNothing = createDeletionClient({
      address: secure.address,
      tls: { ca: certificates.unrelatedCa.cert },
      retry: { attempts: 1 },
    });
    try {
      expect((await trusting.getDeletionRequest({ name: 'deletionRequests/x' })).name).toBe(
        'deletionRequests/x',
      );
      expect(
        await failure(trustingNothing.getDeletionRequest({ name: 'deletionRequests/x' })),
      ).toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      trusting.close();
      trustingNothing.close();
      await secure.close();
    }
  });
});
