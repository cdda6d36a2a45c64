import { LRUCache } from 'lru-cache';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { PeerCertificate } from 'node:tls';
import type { ApiKeyStore } from '../app/ports/api-key-store.js';
import { DomainError } from '../domain/domain-error.js';
import { isScope, type Principal, type Scope } from '../domain/principal.js';
import { hashApiKey } from '../crypto/api-key-hash.js';
import {
  createFailureThrottle,
  peerAddress,
  type FailureBudget,
  type FailureThrottle,
} from './failure-throttle.js';

/** The credentials a transport found on a call. */
export interface Credentials {
  /** The `authorization` header or metadata value. */
  readonly authorization?: string | undefined;
  /** The `x-api-key` header or metadata value. */
  readonly apiKey?: string | undefined;
  /** The client certificate the TLS handshake verified (gRPC over mutual TLS); absent otherwise. */
  readonly clientCertificate?: PeerCertificate | undefined;
  /** The caller's network address as the transport saw it, without its port where it is ambiguous. */
  readonly peer?: string | undefined;
}

/** Turns credentials into a principal; UNAUTHENTICATED otherwise. */
export type Authenticator = (credentials: Credentials) => Promise<Principal>;

/** Where token keys come from. At least one source is needed. */
export interface AuthOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl?: string | undefined;
  /** A JWKS JSON document of static public keys. */
  readonly publicKeys?: string | undefined;
  /** HS256 shared secret: local development and tests only. */
  readonly hs256Secret?: string | undefined;
  readonly apiKeys: ApiKeyStore;
  /** The time tokens are checked against, verified and cached (default: the system's; tests). */
  readonly now?: () => number;
  /** Refused credentials each source (peer address, API key) may present per window. */
  readonly failures?: FailureBudget | undefined;
}

/**
 * The shape of an API key we issue: 16–128 characters of URL-safe base64 or
 * a token's punctuation. Anything else is refused without a lookup.
 */
const API_KEY_SHAPE = /^[A-Za-z0-9._~+/=-]{16,128}$/;

/**
 * The sources a call's refused credentials count against: the peer, and an
 * API key by a prefix of its hash, so one wrong key tried from many peers is
 * held back while a valid key (which never fails) cannot be locked out by
 * someone else's wrong ones, whatever its leading characters.
 */
const sourcesOf = (credentials: Credentials): string[] => [
  ...(credentials.peer ? [`peer:${peerAddress(credentials.peer)}`] : []),
  ...(credentials.apiKey ? [`key:${hashApiKey(credentials.apiKey).slice(0, 16)}`] : []),
];

const ASYMMETRIC = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/** The one answer to every refused credential: which check failed is not said. */
export const unauthenticated = (
  reason: 'MISSING_CREDENTIALS' | 'INVALID_CREDENTIALS',
  cause?: unknown,
): DomainError =>
  new DomainError({
    code: 'UNAUTHENTICATED',
    reason,
    message:
      reason === 'MISSING_CREDENTIALS'
        ? 'credentials are required'
        : 'the credentials are not valid',
    cause,
  });

/** The identity provider's key set could not be fetched: not the caller's fault. */
const isKeySourceDown = (error: unknown): boolean =>
  error instanceof joseErrors.JWKSTimeout ||
  (error instanceof TypeError && error.message.includes('fetch'));

const keysUnavailable = (cause: unknown): DomainError =>
  new DomainError({
    code: 'UNAVAILABLE',
    reason: 'KEYS_UNAVAILABLE',
    message: 'the token signing keys cannot be fetched right now; retry',
    cause,
  });

const scopesOf = (claims: JWTPayload): Set<Scope> => {
  const raw = typeof claims.scope === 'string' ? claims.scope.split(' ') : claims.scp;
  const names = Array.isArray(raw)
    ? raw.filter((item): item is string => typeof item === 'string')
    : [];
  return new Set(names.filter(isScope));
};

/**
 * Maps verified claims to a principal. A token is a service's when it was
 * issued to a client for itself (OAuth client credentials: `client_id` or
 * `azp` equal to `sub`, or `gty: client-credentials`); otherwise a user's.
 */
export const principalFromClaims = (claims: JWTPayload): Principal => {
  const sub = claims.sub ?? '';
  const clientId = claims.client_id ?? claims.azp;
  const service = clientId === sub || claims.gty === 'client-credentials';
  const scopes = scopesOf(claims);
  return {
    actor: { kind: service ? 'SERVICE' : 'USER', id: sub },
    scopes,
    ownSubjectId: service ? null : sub,
    authTime: typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : null,
    amr: Array.isArray(claims.amr)
      ? claims.amr.filter((item): item is string => typeof item === 'string')
      : [],
  };
};

const keyResolvers = (options: AuthOptions) => {
  let asymmetric: JWTVerifyGetKey | undefined;
  // The identity provider's keys: a bounded wait, cached, re-fetched at most every 30 s.
  if (options.jwksUrl)
    asymmetric = createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: 3000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    });
  else if (options.publicKeys)
    asymmetric = createLocalJWKSet(
      JSON.parse(options.publicKeys) as Parameters<typeof createLocalJWKSet>[0],
    );
  const secret = options.hs256Secret ? new TextEncoder().encode(options.hs256Secret) : undefined;
  return { asymmetric, secret };
};

/** Verified tokens kept at most; the least recently used goes first. */
const TOKEN_CACHE_SIZE = 10_000;
/** How long a verification is trusted at most, so a key withdrawn from the JWKS stops working soon. */
const TOKEN_CACHE_MS = 60_000;

/**
 * Principals of tokens verified lately, by token string, each until the
 * token's `exp` (no clock tolerance) or `TOKEN_CACHE_MS` after its check,
 * whichever is first; a bounded LRU. Only successful verifications are kept:
 * a refused token is verified again every time.
 */
const createTokenCache = (now: () => number) => {
  const entries = new LRUCache<string, Principal>({
    max: TOKEN_CACHE_SIZE,
    ttl: TOKEN_CACHE_MS,
    ttlResolution: 0,
    perf: { now },
  });
  return {
    get: (token: string): Principal | undefined => entries.get(token),
    set: (token: string, principal: Principal, exp: number): void => {
      // An entry goes stale once more than its ttl has passed, and a token is refused from its
      // `exp` on: kept until the millisecond before. (A ttl of 0 would keep it for ever.)
      const ttl = Math.min(exp * 1000 - now() - 1, TOKEN_CACHE_MS);
      if (ttl > 0) entries.set(token, principal, { ttl });
    },
  };
};

/**
 * Builds the authenticator: Bearer JWT (jose, verified tokens cached) or API
 * key (hashed lookup; a key of the wrong shape is refused without one). With
 * `failures`, a source that presented too many refused credentials gets
 * RESOURCE_EXHAUSTED (`TOO_MANY_FAILED_AUTHENTICATIONS`, with the retry
 * delay) before anything is verified or looked up; a token already verified
 * is still accepted from it.
 */
export const createAuthenticator = (options: AuthOptions): Authenticator => {
  const keys = keyResolvers(options);
  const baseOptions = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: 5,
    requiredClaims: ['exp', 'sub'],
  };
  const now = options.now ?? Date.now;
  const cache = createTokenCache(now);
  const verifyJwt = async (token: string): Promise<Principal> => {
    const { asymmetric, secret } = keys;
    const verifyOptions = { ...baseOptions, currentDate: new Date(now()) };
    const verified =
      asymmetric !== undefined
        ? await jwtVerify(token, asymmetric, { ...verifyOptions, algorithms: ASYMMETRIC }).catch(
            async (error: unknown) => {
              if (secret === undefined) throw error;
              return jwtVerify(token, secret, { ...verifyOptions, algorithms: ['HS256'] });
            },
          )
        : secret !== undefined
          ? await jwtVerify(token, secret, { ...verifyOptions, algorithms: ['HS256'] })
          : undefined;
    if (verified?.payload.sub === undefined || verified.payload.sub === '')
      throw unauthenticated('INVALID_CREDENTIALS');
    const principal = principalFromClaims(verified.payload);
    // `exp` is a required claim: jose refused the token without it.
    if (verified.payload.exp !== undefined) cache.set(token, principal, verified.payload.exp);
    return principal;
  };
  const verifyApiKey = async (key: string): Promise<Principal> => {
    if (!API_KEY_SHAPE.test(key)) throw unauthenticated('INVALID_CREDENTIALS');
    const record = await options.apiKeys.findByHash(hashApiKey(key));
    if (record === null || record.revoked) throw unauthenticated('INVALID_CREDENTIALS');
    const scopes = new Set(record.scopes.filter(isScope));
    return {
      actor: { kind: 'SERVICE', id: `apikey/${record.name}` },
      scopes,
      ownSubjectId: null,
      authTime: null,
      amr: [],
    };
  };
  const throttle: FailureThrottle | undefined =
    options.failures && createFailureThrottle(options.failures, now);
  return async (credentials) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(credentials.authorization ?? '')?.[1];
    // A token verified lately costs nothing to accept, so it passes even a throttled source.
    const cached = bearer === undefined ? undefined : cache.get(bearer);
    if (cached !== undefined) return cached;
    const sources = sourcesOf(credentials);
    if (!credentials.authorization && !credentials.apiKey)
      throw unauthenticated('MISSING_CREDENTIALS');
    const attempt = throttle?.attempt(sources);
    try {
      const principal =
        bearer !== undefined
          ? await verifyJwt(bearer)
          : credentials.apiKey
            ? await verifyApiKey(credentials.apiKey)
            : undefined;
      if (principal !== undefined) {
        attempt?.passed();
        return principal;
      }
    } catch (error) {
      if (DomainError.is(error) && error.code !== 'UNAUTHENTICATED') {
        attempt?.passed(); // not the caller's failure
        throw error;
      }
      if (isKeySourceDown(error)) {
        attempt?.passed();
        throw keysUnavailable(error);
      }
      attempt?.failed();
      throw unauthenticated('INVALID_CREDENTIALS', error);
    }
    attempt?.failed();
    throw unauthenticated(
      credentials.authorization ? 'INVALID_CREDENTIALS' : 'MISSING_CREDENTIALS',
    );
  };
};
