import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../../src/app/ports/api-key-store.js';
import { createAuthenticator, type Authenticator } from '../../../src/auth/authenticator.js';
import { grpcPeerAddress } from '../../../src/auth/failure-throttle.js';
import { hashApiKey } from '../../../src/crypto/api-key-hash.js';
import { DomainError } from '../../../src/domain/domain-error.js';

const issuer = 'https://idp.test/';
const audience = 'account-deletion';
const now = () => Math.floor(Date.now() / 1000);

const keys = new Map<string, ApiKeyRecord>([
  [
    hashApiKey('good-key-0123456789'),
    { name: 'console', scopes: ['deletion:read', 'not-a-scope'], revoked: false },
  ],
  [
    hashApiKey('revoked-key-0123456789'),
    { name: 'old', scopes: ['deletion:admin'], revoked: true },
  ],
]);
const apiKeys = { findByHash: (hash: string) => Promise.resolve(keys.get(hash) ?? null) };

const failure = async (promise: Promise<unknown>): Promise<DomainError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as DomainError,
  );

describe('authenticator', () => {
  let authenticate: Authenticator;
  let signingKey: CryptoKey;
  let otherKey: CryptoKey;

  const token = (
    claims: Record<string, unknown> = {},
    options: { key?: CryptoKey; exp?: number | null } = {},
  ) => {
    const jwt = new SignJWT({ scope: 'deletion:self', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt();
    if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 300);
    return jwt.sign(options.key ?? signingKey);
  };
  const bearer = async (jwt: Promise<string> | string) => ({
    authorization: `Bearer ${await jwt}`,
  });

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    authenticate = createAuthenticator({
      issuer,
      audience,
      publicKeys: JSON.stringify({ keys: [jwk] }),
      apiKeys,
    });
  });

  it('accepts a valid user token and maps its claims', async () => {
    const principal = await authenticate(
      await bearer(token({ amr: ['pwd', 'mfa'], auth_time: now() })),
    );
    expect(principal.actor).toEqual({ kind: 'USER', id: 'alice' });
    expect([...principal.scopes]).toEqual(['deletion:self']);
    expect(principal.ownSubjectId).toBe('alice');
    expect(principal.amr).toContain('mfa');
  });

  it('treats a client-credentials token as a service with no own subject', async () => {
    const principal = await authenticate(
      await bearer(token({ client_id: 'alice', scope: 'deletion:request' })),
    );
    expect(principal.actor.kind).toBe('SERVICE');
    expect(principal.ownSubjectId).toBeNull();
  });

  it.each([
    [
      'a wrong issuer',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256' })
          .setSubject('a')
          .setIssuer('https://evil/')
          .setAudience(audience)
          .setExpirationTime(now() + 60)
          .sign(signingKey),
    ],
    [
      'a wrong audience',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256' })
          .setSubject('a')
          .setIssuer(issuer)
          .setAudience('other')
          .setExpirationTime(now() + 60)
          .sign(signingKey),
    ],
    ['no exp', () => token({}, { exp: null })],
    ['an expired exp', () => token({}, { exp: now() - 60 })],
    ['an unknown signing key', () => token({}, { key: otherKey })],
    [
      'alg none',
      () =>
        Promise.resolve(
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', iss: issuer, aud: audience, exp: now() + 60 })).toString('base64url')}.`,
        ),
    ],
    [
      'an HS256 token when only public keys are configured',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('a')
          .setIssuer(issuer)
          .setAudience(audience)
          .setExpirationTime(now() + 60)
          .sign(new TextEncoder().encode('x'.repeat(32))),
    ],
    ['garbage', () => Promise.resolve('not.a.jwt')],
  ])('refuses %s with one generic UNAUTHENTICATED', async (_case, make) => {
    const error = await failure(authenticate(await bearer(make())));
    expect(error).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
      message: 'the credentials are not valid',
    });
  });

  it('refuses missing credentials', async () => {
    expect(await failure(authenticate({}))).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'MISSING_CREDENTIALS',
    });
  });

  it('accepts an API key by its hash, keeping only known scopes', async () => {
    const principal = await authenticate({ apiKey: 'good-key-0123456789' });
    expect(principal.actor).toEqual({ kind: 'SERVICE', id: 'apikey/console' });
    expect([...principal.scopes]).toEqual(['deletion:read']);
  });

  it('refuses a revoked or unknown API key', async () => {
    expect(await failure(authenticate({ apiKey: 'revoked-key-0123456789' }))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(await failure(authenticate({ apiKey: 'unknown-key-0123456789' }))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('answers UNAVAILABLE when the JWKS endpoint cannot be reached', async () => {
    const remote = createAuthenticator({
      issuer,
      audience,
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
      apiKeys,
    });
    expect(await failure(remote(await bearer(token())))).toMatchObject({
      code: 'UNAVAILABLE',
      reason: 'KEYS_UNAVAILABLE',
    });
  });
});

describe('the cache of verified tokens', () => {
  let signingKey: CryptoKey;
  let clock: number;
  let authenticate: Authenticator;
  const token = (exp: number) =>
    new SignJWT({ scope: 'deletion:self' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('alice')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(Math.floor(clock / 1000))
      .setExpirationTime(exp)
      .sign(signingKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    clock = Date.now();
    authenticate = createAuthenticator({
      issuer,
      audience,
      publicKeys: JSON.stringify({ keys: [jwk] }),
      apiKeys,
      now: () => clock,
    });
  });

  it('serves a verified token from the cache, and refuses it once it has expired', async () => {
    const exp = Math.floor(clock / 1000) + 120;
    const jwt = { authorization: `Bearer ${await token(exp)}` };
    const first = await authenticate(jwt);
    expect(await authenticate(jwt)).toBe(first); // the cached principal itself

    clock = exp * 1000 + 1000; // expired (inside the verifier's 5 s tolerance): verified again
    const again = await authenticate(jwt);
    expect(again).not.toBe(first);
    expect(again.actor).toEqual(first.actor);

    clock = exp * 1000 + 10_000; // past the tolerance: refused, cached or not
    expect((await failure(authenticate(jwt))).code).toBe('UNAUTHENTICATED');
  });

  it('verifies a token again a minute after its last check, however long it is valid', async () => {
    const jwt = { authorization: `Bearer ${await token(Math.floor(clock / 1000) + 3600)}` };
    const first = await authenticate(jwt);
    clock += 30_000;
    expect(await authenticate(jwt)).toBe(first);
    clock += 31_000;
    expect(await authenticate(jwt)).not.toBe(first);
  });

  it('keeps no refusal: a token refused once is checked, and refused, every time', async () => {
    const other = (await generateKeyPair('ES256')).privateKey;
    const forged = await new SignJWT({ scope: 'deletion:admin' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('mallory')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(Math.floor(clock / 1000) + 300)
      .sign(other);
    for (let i = 0; i < 2; i += 1)
      expect((await failure(authenticate({ authorization: `Bearer ${forged}` }))).code).toBe(
        'UNAUTHENTICATED',
      );
  });
});

describe('refused credentials, throttled per source', () => {
  const budget = { failures: 3, windowMs: 60_000 };
  let clock: number;
  let lookups: string[];
  let throttled: Authenticator;
  let secret: Uint8Array;
  const userToken = (subject: string) =>
    new SignJWT({ scope: 'deletion:self' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime(Math.floor(clock / 1000) + 3600)
      .sign(secret);

  beforeAll(() => {
    secret = new TextEncoder().encode('unit-test-secret-0123456789abcdef');
  });
  beforeEach(() => {
    clock = Date.now();
    lookups = [];
    throttled = createAuthenticator({
      issuer,
      audience,
      hs256Secret: 'unit-test-secret-0123456789abcdef',
      apiKeys: {
        findByHash: (hash) => {
          lookups.push(hash);
          return apiKeys.findByHash(hash);
        },
      },
      now: () => clock,
      failures: budget,
    });
  });

  it('never looks up an API key of the wrong shape', async () => {
    for (const apiKey of [
      'short',
      'has spaces in it, 0123456789',
      'x'.repeat(129),
      'ключ-0123456789abcdef',
    ])
      expect((await failure(throttled({ apiKey }))).code).toBe('UNAUTHENTICATED');
    expect(lookups).toEqual([]);
  });

  it('refuses a peer past its budget before verifying or looking anything up, with a retry delay', async () => {
    const peer = '10.0.0.7:50123';
    for (let i = 0; i < budget.failures; i += 1)
      expect((await failure(throttled({ apiKey: `wrong-key-${i}-0123456789`, peer }))).code).toBe(
        'UNAUTHENTICATED',
      );
    expect(lookups).toHaveLength(budget.failures);

    clock += 10_000;
    const refused = await failure(throttled({ apiKey: 'good-key-0123456789', peer: '10.0.0.7:1' }));
    expect(refused).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      reason: 'TOO_MANY_FAILED_AUTHENTICATIONS',
      retryDelayMs: 50_000,
    });
    expect(lookups).toHaveLength(budget.failures);
    // Another peer is not held back; the window's end frees this one.
    expect((await throttled({ apiKey: 'good-key-0123456789', peer: '10.0.0.8:1' })).actor.id).toBe(
      'apikey/console',
    );
    clock += 50_000;
    expect((await throttled({ apiKey: 'good-key-0123456789', peer })).actor.id).toBe(
      'apikey/console',
    );
  });

  it('counts a wrong key across peers, and bad tokens and schemes against the peer', async () => {
    for (let i = 0; i < budget.failures; i += 1)
      await failure(throttled({ apiKey: `revoked-key-0123456789`, peer: `10.1.0.${i}:1` }));
    expect(
      (await failure(throttled({ apiKey: 'revoked-key-0123456789', peer: '10.1.0.99:1' }))).reason,
    ).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');

    const peer = '[2001:db8::1]:443';
    await failure(throttled({ authorization: 'Bearer not-a-jwt', peer }));
    await failure(throttled({ authorization: 'Basic dXNlcjpwYXNz', peer }));
    await failure(throttled({ authorization: 'Bearer also.not.valid', peer: '2001:db8::1' }));
    expect(
      (await failure(throttled({ authorization: `Bearer ${await userToken('bob')}`, peer })))
        .reason,
    ).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
  });

  it('never locks out a valid key with wrong keys that share its first characters', async () => {
    for (let i = 0; i < budget.failures * 3; i += 1)
      await failure(
        throttled({ apiKey: `good-key-0123456789-${String(i)}`, peer: `10.4.0.${String(i)}:1` }),
      );
    expect((await throttled({ apiKey: 'good-key-0123456789', peer: '10.4.1.1:1' })).actor.id).toBe(
      'apikey/console',
    );
  });

  it('reads the peers grpc-js gives (IPv6 unbracketed, with a port) as one address per host', () => {
    expect(grpcPeerAddress('2001:db8::7:5000')).toBe('2001:db8::7');
    expect(grpcPeerAddress('2001:db8::7:6001')).toBe('2001:db8::7');
    expect(grpcPeerAddress('::ffff:10.0.0.9:443')).toBe('10.0.0.9');
    expect(grpcPeerAddress('10.0.0.9:443')).toBe('10.0.0.9');
    expect(grpcPeerAddress('::1:50051')).toBe('::1');
    expect(grpcPeerAddress('unknown')).toBe('unknown');
  });

  it('lets no burst of concurrent attempts past the budget once a source has failed', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let lookups = 0;
    const held = createAuthenticator({
      issuer,
      audience,
      hs256Secret: 'unit-test-secret-0123456789abcdef',
      apiKeys: {
        findByHash: async () => {
          lookups += 1;
          await slow;
          return null;
        },
      },
      now: () => clock,
      failures: budget,
    });
    const peer = '10.5.0.1:1';
    const first = failure(held({ apiKey: 'wrong-key-first-0123', peer }));
    release();
    await first;
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        failure(held({ apiKey: `wrong-key-${String(i)}-0123456789`, peer })),
      ),
    );
    expect(
      burst.filter((error) => error.reason === 'TOO_MANY_FAILED_AUTHENTICATIONS'),
    ).toHaveLength(10 - (budget.failures - 1));
    expect(lookups).toBe(budget.failures);
  });

  it('still accepts a token it verified lately from a throttled peer', async () => {
    const peer = '::ffff:10.2.0.1';
    const known = { authorization: `Bearer ${await userToken('carol')}`, peer };
    await throttled(known);
    for (let i = 0; i < budget.failures; i += 1)
      await failure(throttled({ authorization: 'Bearer nope', peer: '10.2.0.1:9' }));

    expect((await throttled(known)).actor.id).toBe('carol');
    expect(
      (await failure(throttled({ authorization: `Bearer ${await userToken('dave')}`, peer })))
        .reason,
    ).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
  });

  it('counts neither missing credentials nor a key store that is down', async () => {
    const down = createAuthenticator({
      issuer,
      audience,
      hs256Secret: 'unit-test-secret-0123456789abcdef',
      apiKeys: {
        findByHash: () =>
          Promise.reject(
            new DomainError({
              code: 'UNAVAILABLE',
              reason: 'DATABASE_UNAVAILABLE',
              message: 'down',
            }),
          ),
      },
      now: () => clock,
      failures: budget,
    });
    const peer = '10.3.0.1:1';
    for (let i = 0; i < budget.failures + 1; i += 1) {
      expect((await failure(down({ peer }))).reason).toBe('MISSING_CREDENTIALS');
      expect((await failure(down({ apiKey: 'good-key-0123456789', peer }))).code).toBe(
        'UNAVAILABLE',
      );
    }
  });
});
