import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../clients/deletionctl/main.js';
import { Actor_Kind } from '../../src/gen/deletion/v1/deletion_request.js';
import { grpcServerCredentials } from '../../src/transports/grpc/server-credentials.js';
import { callError, createTestClient, type Auth } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import {
  createTestCertificates,
  type TestCertificate,
  type TestCertificates,
} from '../support/test-certificates.js';
import { mintToken } from '../support/tokens.js';

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const NOT_FOUND = 5;

const SUPPORT_BACKEND = {
  identity: 'spiffe://example.internal/support-backend',
  principal: 'support-backend',
  scopes: ['deletion:request', 'deletion:read'],
};

/** A gRPC client of `t` over TLS trusting the test CA, presenting `cert` when given. */
const tlsClient = (t: TestApp, pki: TestCertificates, cert?: TestCertificate) => {
  const client = createTestClient(`127.0.0.1:${String(t.ports.grpc)}`, {
    tls: {
      ca: pki.ca.cert,
      ...(cert === undefined ? {} : { cert: cert.cert, key: cert.key }),
    },
  });
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
};

/** The refusal as the caller sees it: code, reason and message, nothing else. */
const answerOf = async (call: Promise<unknown>) => {
  const error = await callError(call);
  return { code: error.code, reason: error.reason, message: error.rich?.message };
};

describe('gRPC over mutual TLS', () => {
  let pki: TestCertificates;
  let t: TestApp;
  beforeAll(async () => {
    pki = createTestCertificates();
    t = await startTestApp({
      GRPC_TLS_CERT_FILE: pki.server.certFile,
      GRPC_TLS_KEY_FILE: pki.server.keyFile,
      GRPC_CLIENT_CA_FILE: pki.ca.certFile,
      GRPC_CLIENT_PRINCIPALS: JSON.stringify([SUPPORT_BACKEND]),
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    pki[Symbol.dispose]();
  });

  /** A seeded subject with its own (valid) token: what the refused callers try to use. */
  const aSubject = async () => {
    const subjectId = newSubjectId('mtls');
    await t.seedAccount({ id: subjectId });
    return { subjectId, cast: await castFor(subjectId) };
  };

  it.each([
    ['a client without a certificate', undefined],
    ['a certificate signed by an untrusted CA', 'unrelatedClient'],
  ] as const)(
    'refuses %s at the handshake (UNAVAILABLE), even with a valid token',
    async (_what, certificate) => {
      const { subjectId, cast } = await aSubject();
      using client = tlsClient(t, pki, certificate && pki[certificate]);

      const error = await callError(client.requestDeletion({ subjectId }, cast.self));

      expect(error.code).toBe(UNAVAILABLE);
      expect(await t.count('deletion_requests', { subjectId })).toBe(0);
    },
  );

  it('refuses a verified certificate that is not allow-listed with UNAUTHENTICATED, the same answer as a bad token', async () => {
    const { subjectId, cast } = await aSubject();
    using stranger = tlsClient(t, pki, pki.strangerClient);
    using nameOnly = tlsClient(t, pki, pki.client);
    using allowed = tlsClient(t, pki, pki.serviceClient);
    const foreign = await mintToken({
      sub: subjectId,
      scope: 'deletion:self',
      secret: 'a-key-the-service-never-trusted-0123456789',
    });

    const badToken = await answerOf(allowed.requestDeletion({ subjectId }, { token: foreign }));
    expect(badToken).toMatchObject({ code: UNAUTHENTICATED, reason: 'INVALID_CREDENTIALS' });
    for (const [label, call] of [
      ['stranger with a valid token', stranger.requestDeletion({ subjectId }, cast.self)],
      ['stranger without a token', stranger.requestDeletion({ subjectId }, null)],
      ['a CN-only certificate', nameOnly.listDeletionRequests({}, null)],
    ] as const) {
      expect(await answerOf(call), label).toEqual(badToken);
    }
    expect(await t.count('deletion_requests', { subjectId })).toBe(0);
  });

  it('accepts an allow-listed certificate as its service principal, with its scopes only', async () => {
    const { subjectId } = await aSubject();
    using client = tlsClient(t, pki, pki.serviceClient);

    const created = await client.requestDeletion({ subjectId }, null);

    expect(created.requester).toEqual({ kind: Actor_Kind.KIND_SERVICE, id: 'support-backend' });
    const listed = await client.listDeletionRequests({ subjectId }, null);
    expect(listed.deletionRequests.map((request) => request.name)).toEqual([created.name]);
    const adminOnly = await callError(
      client.retryParticipant({ name: created.name, participant: 'billing' }, null),
    );
    expect(adminOnly.code).toBe(PERMISSION_DENIED);
    const approval = await callError(client.approveDeletion({ name: created.name }, null));
    expect(approval.code).toBe(PERMISSION_DENIED);
  });

  it('acts as the token when an allow-listed certificate also sends one', async () => {
    const { subjectId, cast } = await aSubject();
    using client = tlsClient(t, pki, pki.serviceClient);

    const created = await client.requestDeletion({ subjectId }, cast.self);
    expect(created.requester).toEqual({ kind: Actor_Kind.KIND_USER, id: subjectId });
    // The subject's token reaches only its own request, whatever the certificate may do.
    const other = await aSubject();
    const denied = await callError(
      client.requestDeletion({ subjectId: other.subjectId }, cast.self),
    );
    expect(denied.code).toBe(PERMISSION_DENIED);
    // An admin token gets the admin's reach (past authorization to the lookup).
    const admin: Auth = cast.admin;
    const missing = await callError(
      client.retryParticipant(
        { name: 'deletionRequests/00000000-0000-4000-8000-000000000000', participant: 'billing' },
        admin,
      ),
    );
    expect(missing.code).toBe(NOT_FOUND);
  });

  it('lets deletionctl call with a client certificate, and not without one', async () => {
    const ctl = async (args: string[]) => {
      const err: string[] = [];
      const code = await main(args, {
        out: () => undefined,
        err: (text) => err.push(text),
        env: { DELETION_ADDRESS: `127.0.0.1:${String(t.ports.grpc)}` },
        isTty: false,
      });
      return { code, err: err.join('\n') };
    };
    const ca = ['--tls-ca', pki.ca.certFile];
    const cert = ['--tls-cert', pki.serviceClient.certFile, '--tls-key', pki.serviceClient.keyFile];

    expect(await ctl([...ca, ...cert, '--json', 'list'])).toEqual({ code: EXIT.OK, err: '' });
    expect((await ctl([...ca, '--deadline-ms', '2000', 'list'])).code).toBe(EXIT.UNAVAILABLE);
    expect((await ctl([...ca, '--tls-cert', pki.serviceClient.certFile, 'list'])).code).toBe(
      EXIT.USAGE,
    );
  });
});

describe('gRPC over TLS without client certificates', () => {
  let pki: TestCertificates;
  let t: TestApp;
  beforeAll(async () => {
    pki = createTestCertificates();
    t = await startTestApp({
      GRPC_TLS_CERT_FILE: pki.server.certFile,
      GRPC_TLS_KEY_FILE: pki.server.keyFile,
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    pki[Symbol.dispose]();
  });

  it('serves token calls over TLS, and refuses plaintext clients', async () => {
    const subjectId = newSubjectId('tls');
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    using secure = tlsClient(t, pki);

    const created = await secure.requestDeletion({ subjectId }, cast.self);
    expect(created.requester).toEqual({ kind: Actor_Kind.KIND_USER, id: subjectId });
    // Without a token, TLS alone authenticates no one.
    expect((await callError(secure.listDeletionRequests({}, null))).code).toBe(UNAUTHENTICATED);
    // startTestApp's own client speaks plaintext.
    expect(
      (await callError(t.client.getDeletionRequest({ name: created.name }, cast.self))).code,
    ).toBe(UNAVAILABLE);
  });

  it('stops start-up naming the variable when a file is missing or the key is not the certificate’s', () => {
    const missing = join(pki.dir, 'missing.pem');
    expect(() =>
      grpcServerCredentials({ GRPC_TLS_CERT_FILE: missing, GRPC_TLS_KEY_FILE: pki.server.keyFile }),
    ).toThrow(`GRPC_TLS_CERT_FILE cannot be read: ${missing} (ENOENT)`);
    expect(() =>
      grpcServerCredentials({
        GRPC_TLS_CERT_FILE: pki.server.certFile,
        GRPC_TLS_KEY_FILE: pki.server.keyFile,
        GRPC_CLIENT_CA_FILE: missing,
      }),
    ).toThrow(/^GRPC_CLIENT_CA_FILE cannot be read/);
    expect(() =>
      grpcServerCredentials({
        GRPC_TLS_CERT_FILE: pki.server.certFile,
        GRPC_TLS_KEY_FILE: pki.client.keyFile,
      }),
    ).toThrow(/GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE: not a usable certificate, key and CA/);
  });
});
