import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../src/auth/authenticator.js';
import {
  certificateIdentities,
  gateByClientCertificate,
} from '../../../src/auth/client-certificate.js';
import type { DomainError } from '../../../src/domain/domain-error.js';
import type { Principal } from '../../../src/domain/principal.js';

/** A peer certificate as Node's TLS socket reports it (only the fields read here). */
const peer = (subjectaltname: string | undefined, cn?: string): PeerCertificate =>
  ({ subjectaltname, subject: cn === undefined ? {} : { CN: cn } }) as unknown as PeerCertificate;

const failure = async (promise: Promise<unknown>): Promise<DomainError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as DomainError,
  );

describe('certificateIdentities', () => {
  it('names URI SANs, then DNS SANs, and ignores other kinds', () => {
    const san =
      'DNS:billing.internal, URI:spiffe://example.internal/billing, IP Address:127.0.0.1, email:ops@example.internal';
    expect(certificateIdentities(peer(san, 'billing'))).toEqual([
      'spiffe://example.internal/billing',
      'billing.internal',
    ]);
  });

  it('falls back to the CN only when the certificate has no URI or DNS SAN', () => {
    expect(certificateIdentities(peer(undefined, 'billing'))).toEqual(['billing']);
    expect(certificateIdentities(peer('IP Address:10.0.0.5', 'billing'))).toEqual(['billing']);
    expect(certificateIdentities(peer(undefined))).toEqual([]);
  });

  it('reads a quoted SAN as one name: a comma inside cannot smuggle in a second one', () => {
    // What Node prints for a URI SAN of `spiffe://a/b, DNS:billing.internal` (checked with openssl).
    const crafted = 'URI:"spiffe://a/b\\u002c DNS:billing.internal", DNS:x.internal';
    expect(certificateIdentities(peer(crafted))).toEqual([
      'spiffe://a/b, DNS:billing.internal',
      'x.internal',
    ]);
  });

  it('names nothing (not even the CN) when the SAN string does not parse', () => {
    expect(certificateIdentities(peer('URI:"unterminated', 'billing'))).toEqual([]);
  });
});

describe('gateByClientCertificate', () => {
  const tokenPrincipal: Principal = {
    actor: { kind: 'USER', id: 'user-1' },
    scopes: new Set(['deletion:self']),
    ownSubjectId: 'user-1',
    authTime: null,
    amr: [],
  };
  const tokens: Authenticator = (credentials) =>
    credentials.authorization === 'Bearer good'
      ? Promise.resolve(tokenPrincipal)
      : Promise.reject(new Error('bad token'));
  const gate = gateByClientCertificate(
    [
      {
        identity: 'spiffe://example.internal/billing',
        principal: 'billing',
        scopes: ['deletion:participant'],
      },
    ],
    tokens,
  );
  const billing = peer('URI:spiffe://example.internal/billing');

  it('gives a certificate-only call the allow-listed service principal and its scopes', async () => {
    const principal = await gate({ clientCertificate: billing });
    expect(principal.actor).toEqual({ kind: 'SERVICE', id: 'billing' });
    expect([...principal.scopes]).toEqual(['deletion:participant']);
    expect(principal.ownSubjectId).toBeNull();
  });

  it('lets the token decide who calls once the certificate is allowed in', async () => {
    await expect(gate({ clientCertificate: billing, authorization: 'Bearer good' })).resolves.toBe(
      tokenPrincipal,
    );
    await expect(gate({ clientCertificate: billing, authorization: 'Bearer bad' })).rejects.toThrow(
      'bad token',
    );
  });

  it('refuses a missing or unlisted certificate before looking at the token', async () => {
    expect(await failure(gate({ authorization: 'Bearer good' }))).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'MISSING_CREDENTIALS',
    });
    const stranger = peer('URI:spiffe://example.internal/stranger', 'billing');
    expect(
      await failure(gate({ clientCertificate: stranger, authorization: 'Bearer good' })),
    ).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  });
});
