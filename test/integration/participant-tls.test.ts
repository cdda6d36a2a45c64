import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParticipantServer,
  type ParticipantServerTls,
} from '../../clients/participant-sdk/create-participant-server.js';
import type { EraseCall } from '../../src/app/ports/participants.js';
import { DomainError } from '../../src/domain/domain-error.js';
import { createGrpcParticipants } from '../../src/participants/grpc-participants.js';
import type { ParticipantTls } from '../../src/participants/participant-registration.js';
import { aRequestId, aSubjectId } from '../fixtures/deletion-request-builder.js';
import { createTestCertificates, type TestCertificates } from '../support/test-certificates.js';

/** A linked service built on the SDK, serving `tls` on 127.0.0.1; it records each Erase. */
const startService = async (tls: ParticipantServerTls) => {
  const erased: string[] = [];
  const server = createParticipantServer(
    {
      suspend: () => Promise.resolve(),
      restore: () => Promise.resolve(),
      erase: (subject) => {
        erased.push(subject.subjectId);
        return Promise.resolve({ kind: 'erased', records: 1, categories: ['profile'] });
      },
    },
    { tls },
  );
  const port = await server.listen('127.0.0.1', 0);
  return {
    address: `127.0.0.1:${String(port)}`,
    erased,
    [Symbol.asyncDispose]: () => server.close(),
  };
};

/** The deletion service's side: one registration `billing` with this TLS setting. */
const connect = (address: string, tls: ParticipantTls | null) => {
  const participants = createGrpcParticipants(
    [
      {
        name: 'billing',
        address,
        tls,
        timeoutMs: 5000,
        maxAttempts: 1,
        phases: ['erase'],
        after: [],
        identity: 'billing',
        subjectId: 'real',
        categories: [],
      },
    ],
    (subjectId) => `pseudonym-of-${subjectId}`,
    { now: () => new Date() },
  );
  return Object.assign(participants, { [Symbol.dispose]: () => participants.close() });
};

const aCall = (): EraseCall => ({
  deletionRequestId: aRequestId(),
  subjectId: aSubjectId(),
  finalAnswerDeadline: new Date(Date.now() + 86_400_000),
});

/** The error an Erase failed with; fails the test when it succeeded. */
const failureOf = async (answer: Promise<unknown>): Promise<DomainError> => {
  const error = await answer.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
};

const ERASED = { outcome: { kind: 'ERASED', records: 1, categories: ['profile'] } };

describe('TLS to linked services', () => {
  let pki: TestCertificates;
  beforeAll(() => {
    pki = createTestCertificates();
  });
  afterAll(() => pki[Symbol.dispose]());

  it('erases over TLS when the service certificate is signed by the configured CA', async () => {
    await using service = await startService(pki.server);
    using participants = connect(service.address, { caFile: pki.ca.certFile });
    const call = aCall();

    await expect(participants.erase('billing', call)).resolves.toEqual(ERASED);
    expect(service.erased).toEqual([call.subjectId]);
  });

  it('erases over mutual TLS with the configured client certificate', async () => {
    await using service = await startService({ ...pki.server, clientCa: pki.ca.cert });
    using participants = connect(service.address, {
      caFile: pki.ca.certFile,
      certFile: pki.client.certFile,
      keyFile: pki.client.keyFile,
    });

    await expect(participants.erase('billing', aCall())).resolves.toEqual(ERASED);
  });

  it('is refused (UNAVAILABLE) by a service requiring client certificates when it has none', async () => {
    await using service = await startService({ ...pki.server, clientCa: pki.ca.cert });
    using participants = connect(service.address, { caFile: pki.ca.certFile });

    const error = await failureOf(participants.erase('billing', aCall()));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', metadata: { retryable: 'true' } });
    expect(service.erased).toEqual([]);
  });

  it('is refused by a mutual-TLS service when its client certificate is from another CA', async () => {
    await using service = await startService({ ...pki.server, clientCa: pki.ca.cert });
    using participants = connect(service.address, {
      caFile: pki.ca.certFile,
      certFile: pki.unrelatedClient.certFile,
      keyFile: pki.unrelatedClient.keyFile,
    });

    expect(await failureOf(participants.erase('billing', aCall()))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(service.erased).toEqual([]);
  });

  it('refuses a service whose certificate is signed by an unrelated CA', async () => {
    await using service = await startService(pki.unrelatedServer);
    using participants = connect(service.address, { caFile: pki.ca.certFile });

    expect(await failureOf(participants.erase('billing', aCall()))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(service.erased).toEqual([]);
  });

  it('checks serverName instead of the IP when it is set', async () => {
    await using service = await startService(pki.namedServer);
    using byIp = connect(service.address, { caFile: pki.ca.certFile });
    using byName = connect(service.address, {
      caFile: pki.ca.certFile,
      serverName: 'billing.internal',
    });

    expect(await failureOf(byIp.erase('billing', aCall()))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    await expect(byName.erase('billing', aCall())).resolves.toEqual(ERASED);
  });

  it('fails to call a TLS service with the default plaintext setting', async () => {
    await using service = await startService(pki.server);
    using participants = connect(service.address, null);

    expect(await failureOf(participants.erase('billing', aCall()))).toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(service.erased).toEqual([]);
  });

  it('stops start-up naming the service and the file when a TLS file is missing', () => {
    const missing = join(pki.dir, 'missing-ca.pem');
    expect(() => connect('127.0.0.1:1', { caFile: missing })).toThrow(
      `PARTICIPANTS: "billing" tls.caFile cannot be read: ${missing} (ENOENT)`,
    );
    expect(() =>
      connect('127.0.0.1:1', { certFile: pki.client.certFile, keyFile: join(pki.dir, 'none.key') }),
    ).toThrow(/"billing" tls\.keyFile cannot be read: .*none\.key/);
  });

  it('stops start-up when the key file does not hold the key of the certificate', () => {
    expect(() =>
      connect('127.0.0.1:1', { certFile: pki.client.certFile, keyFile: pki.server.keyFile }),
    ).toThrow(/"billing" tls files are not a usable certificate and key/);
  });
});

describe('participant SDK TLS options', () => {
  it('refuses to require client certificates without the CA that signs them', () => {
    const handlers = {
      suspend: () => Promise.resolve(),
      restore: () => Promise.resolve(),
      erase: () => Promise.resolve({ kind: 'nothingFound' as const }),
    };
    expect(() =>
      createParticipantServer(handlers, {
        tls: { cert: 'x', key: 'y', requireClientCert: true },
      }),
    ).toThrow(/requireClientCert needs tls\.clientCa/);
  });
});
