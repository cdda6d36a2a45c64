import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { Authenticator, Credentials } from '../../auth/authenticator.js';
import type { ConsoleCredential, ConsoleSessionStore } from '../../app/ports/console-sessions.js';
import { DomainError } from '../../domain/domain-error.js';
import type { Principal } from '../../domain/principal.js';
import { operationsOnAnySubject } from '../../domain/authorization.js';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The header every console call carries. A cross-site form or link cannot
 * set it, and a cross-site script cannot send it without a CORS preflight
 * this service never grants: a session cookie counts only on a call that
 * has it.
 */
export const CONSOLE_REQUEST_HEADER = 'x-console-request';

/**
 * The session cookie (an unguessable id; the session is kept by the service):
 * HttpOnly, SameSite=Strict, Path=/. When Secure it takes the `__Host-`
 * prefix, so no sibling subdomain can set one in its place.
 */
export const CONSOLE_COOKIE = 'console_session';
const SECURE_COOKIE = `__Host-${CONSOLE_COOKIE}`;

/**
 * The console's page and assets come only from this origin; no inline script
 * or style, no plugin, no framing by anyone, no form posting elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  // No script may write markup into the page (React never needs to).
  "require-trusted-types-for 'script'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
} as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** What the console's routes need. */
export interface ConsoleOptions {
  /** The built console (index.html and assets/); null: not built, /console says how to build it. */
  readonly assetsDir: string | null;
  readonly sessions: ConsoleSessionStore;
  readonly authenticate: Authenticator;
  readonly now: () => Date;
  /**
   * Whether every cookie is Secure (production). Otherwise (development,
   * tests) only one set over TLS, or behind a proxy that says it terminated TLS.
   */
  readonly secureAlways: boolean;
  /** A trace backend's URL with `{traceId}`, for the console's trace links; null: ids only. */
  readonly traceUrlTemplate: string | null;
}

/** A request header's value; undefined when absent or repeated. */
export const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** Answers with JSON (or nothing, for a null body), the security headers and these. */
const answer =
  (response: ServerResponse, headers: Readonly<Record<string, string>> = {}) =>
  (status: number, body: object | null): void => {
    response.writeHead(status, {
      ...SECURITY_HEADERS,
      ...headers,
      ...(body !== null && { 'content-type': 'application/json' }),
      'cache-control': 'no-store',
    });
    response.end(body === null ? undefined : JSON.stringify(body));
  };

/** The value of one cookie of the request; undefined when it has none by that name. */
const cookieOf = (request: IncomingMessage, name: string): string | undefined => {
  for (const part of (header(request, 'cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
};

/**
 * Whether a call comes from the console itself: it carries the console's
 * header, and a browser that says where it comes from says this origin.
 */
export const isConsoleCall = (request: IncomingMessage): boolean => {
  if (header(request, CONSOLE_REQUEST_HEADER) !== '1') return false;
  const site = header(request, 'sec-fetch-site');
  return site === undefined || site === 'same-origin';
};

/** The session id a console call presents: the `__Host-` cookie, or (not in production) the plain one. */
const sessionIdOf = (
  request: IncomingMessage,
  options: Pick<ConsoleOptions, 'secureAlways'>,
): string | undefined =>
  cookieOf(request, SECURE_COOKIE) ??
  (options.secureAlways ? undefined : cookieOf(request, CONSOLE_COOKIE));

/** The credentials a call's console session carries; undefined when it has no live one. */
export const consoleCredentials = async (
  request: IncomingMessage,
  options: Pick<ConsoleOptions, 'sessions' | 'now' | 'secureAlways'>,
): Promise<Credentials | undefined> => {
  if (!isConsoleCall(request)) return undefined;
  const id = sessionIdOf(request, options);
  const credential = id === undefined ? null : await options.sessions.find(id, options.now());
  return credential === null ? undefined : credentialsOf(credential, request);
};

const credentialsOf = (credential: ConsoleCredential, request: IncomingMessage): Credentials => ({
  ...(credential.kind === 'token'
    ? { authorization: `Bearer ${credential.value}` }
    : { apiKey: credential.value }),
  peer: request.socket.remoteAddress,
});

/**
 * What was pasted at the sign-in: a bearer token (`Bearer ` optional, a JWT
 * of three base64url parts), anything else an API key.
 */
const credentialFrom = (pasted: string): ConsoleCredential => {
  const given = pasted.replace(/^Bearer\s+/i, '');
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(given)
    ? { kind: 'token', value: given }
    : { kind: 'apiKey', value: given };
};

const MAX_LOGIN_BYTES = 16 * 1024;

const readLogin = async (request: IncomingMessage): Promise<string | null> => {
  if (!(header(request, 'content-type') ?? '').startsWith('application/json')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_LOGIN_BYTES) return null;
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { credential?: unknown };
    const credential = typeof body.credential === 'string' ? body.credential.trim() : '';
    return credential.length > 0 && credential.length <= 8192 ? credential : null;
  } catch {
    return null;
  }
};

/**
 * Who the console shows as signed in (ids and scopes only) and the
 * operations their scopes allow on any subject: the console offers those
 * and no other (the service decides each call again).
 */
const viewerOf = (principal: Principal, options: ConsoleOptions, expiresAt: Date | null) => ({
  actor: { kind: principal.actor.kind, id: principal.actor.id },
  scopes: [...principal.scopes].sort(),
  allowed: operationsOnAnySubject(principal),
  traceUrlTemplate: options.traceUrlTemplate,
  expireTime: expiresAt?.toISOString() ?? null,
});

/**
 * Whether the cookie is `Secure`: always in production; elsewhere when the
 * call came over TLS or a proxy says it did (which can only add the flag).
 */
const secureFor = (request: IncomingMessage, options: Pick<ConsoleOptions, 'secureAlways'>) =>
  options.secureAlways ||
  (request.socket as { encrypted?: boolean }).encrypted === true ||
  header(request, 'x-forwarded-proto') === 'https';

const cookie = (value: string, maxAgeSeconds: number, secure: boolean): string =>
  [
    `${secure ? SECURE_COOKIE : CONSOLE_COOKIE}=${value}`,
    'Path=/',
    `Max-Age=${String(maxAgeSeconds)}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');

/** A refused login or session: 401, or 429 with Retry-After when the source is throttled. */
const refuse = (response: ServerResponse, error: unknown): void => {
  if (!DomainError.is(error)) throw error;
  if (error.code === 'RESOURCE_EXHAUSTED')
    return answer(response, {
      'retry-after': String(Math.ceil((error.retryDelayMs ?? 1000) / 1000)),
    })(429, { error: error.message, reason: error.reason });
  if (error.code === 'UNAVAILABLE')
    return answer(response)(503, { error: error.message, reason: error.reason });
  answer(response)(401, { error: 'not signed in', reason: 'UNAUTHENTICATED' });
};

/**
 * The session: `POST /console/session` with `{"credential": "<token or API
 * key>"}` signs in (the credential is checked, kept sealed by the service,
 * and the browser gets an unguessable session id in an HttpOnly,
 * SameSite=Strict cookie: the credential is never in a URL or anywhere a
 * script can read); `GET /console/session` says who is signed in;
 * `POST /console/session/end` ends the session for every copy of the cookie.
 * Each needs the console's header.
 */
const serveSession = async (
  request: IncomingMessage,
  response: ServerResponse,
  options: ConsoleOptions,
): Promise<void> => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (!isConsoleCall(request))
    return answer(response)(403, { error: `the ${CONSOLE_REQUEST_HEADER} header is required` });
  if (path === `${CONSOLE_PATH}/session/end` && request.method === 'POST') {
    // Ended for every copy of the cookie: the service forgets the session.
    const id = sessionIdOf(request, options);
    if (id !== undefined) await options.sessions.end(id);
    return answer(response, { 'set-cookie': cookie('', 0, secureFor(request, options)) })(
      204,
      null,
    );
  }
  if (path !== `${CONSOLE_PATH}/session`) return answer(response)(404, { error: 'not found' });
  if (request.method === 'GET') {
    const credentials = await consoleCredentials(request, options);
    if (credentials === undefined)
      return answer(response)(401, { error: 'not signed in', reason: 'UNAUTHENTICATED' });
    try {
      return answer(response)(
        200,
        viewerOf(await options.authenticate(credentials), options, null),
      );
    } catch (error) {
      return refuse(response, error);
    }
  }
  if (request.method !== 'POST')
    return answer(response, { allow: 'GET, POST' })(405, { error: 'use GET or POST' });
  const given = await readLogin(request);
  if (given === null)
    return answer(response)(400, { error: 'send {"credential": "<token or API key>"} as JSON' });
  const credential = credentialFrom(given);
  try {
    const principal = await options.authenticate(credentialsOf(credential, request));
    const now = options.now();
    const id = await options.sessions.start(credential, now);
    const maxAge = Math.floor(options.sessions.ttlMs / 1000);
    return answer(response, { 'set-cookie': cookie(id, maxAge, secureFor(request, options)) })(
      200,
      viewerOf(principal, options, new Date(now.getTime() + options.sessions.ttlMs)),
    );
  } catch (error) {
    return refuse(response, error);
  }
};

/** A file of the built console, or null when there is none at that path. */
const assetAt = async (
  assetsDir: string,
  relative: string,
): Promise<{ readonly body: Buffer; readonly type: string } | null> => {
  const path = normalize(join(assetsDir, relative));
  if (!path.startsWith(assetsDir.endsWith(sep) ? assetsDir : assetsDir + sep)) return null;
  const type = CONTENT_TYPES[extname(path)];
  if (type === undefined) return null;
  try {
    return { body: await readFile(path), type };
  } catch {
    return null;
  }
};

/**
 * The console's page and assets: hashed assets cached for good, the page
 * never (it names the current assets); every path without a file extension
 * is one of the console's screens and gets the page.
 */
const serveAsset = async (
  request: IncomingMessage,
  response: ServerResponse,
  assetsDir: string | null,
): Promise<void> => {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return answer(response, { allow: 'GET, HEAD' })(405, { error: 'use GET' });
  if (assetsDir === null)
    return answer(response)(404, {
      error: 'the console is not built: run `npm run build` (npm start does)',
    });
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const relative = path.slice(CONSOLE_PATH.length).replace(/^\/+/, '');
  // A screen is a path with no extension outside assets/; an asset is only ever a file.
  const hashed = relative.startsWith('assets/');
  const screen = !hashed && extname(relative) === '';
  const asset = await assetAt(assetsDir, screen ? 'index.html' : relative);
  if (asset === null) return answer(response)(404, { error: 'not found' });
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    'content-length': String(asset.body.length),
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
};

/** Serves `/console` and everything under it: the session endpoints, the page and its assets. */
export const createConsoleRoutes =
  (options: ConsoleOptions) =>
  (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`))
      return Promise.resolve(answer(response)(404, { error: 'not found' }));
    if (path === `${CONSOLE_PATH}/session` || path.startsWith(`${CONSOLE_PATH}/session/`))
      return serveSession(request, response, options);
    return serveAsset(request, response, options.assetsDir);
  };
