import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/transports/http/console-routes.js';
import { adminAuth } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

const CONSOLE = { 'x-console-request': '1' };
const JSON_BODY = { 'content-type': 'application/json' };

/** The session cookie a sign-in set, as a browser sends it back. */
const sessionCookie = (response: Response): string => {
  const set = response.headers.get('set-cookie') ?? '';
  return set.split(';')[0] ?? '';
};

/**
 * The console's session and pages over real HTTP: sign-in keeps the credential
 * in a sealed HttpOnly, SameSite=Strict cookie; the cookie counts only on
 * calls that carry the console's header (never on a cross-site one); pages
 * come with a strict CSP and cannot be framed.
 */
describe('console sessions and pages', () => {
  let t: TestApp;
  let base: string;
  let built: string;
  beforeAll(async () => {
    // A built console of its own, so these checks need no build: the page and one asset.
    built = await mkdtemp(join(tmpdir(), 'console-'));
    await mkdir(join(built, 'assets'));
    await writeFile(
      join(built, 'index.html'),
      '<!doctype html><script type="module" src="/console/assets/a.js"></script>',
    );
    await writeFile(join(built, 'assets', 'a.js'), 'export {};');
    t = await startTestApp({ CONSOLE_DIR: built, CONSOLE_SESSION_HOURS: '1' });
    base = `http://127.0.0.1:${String(t.ports.http)}`;
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await rm(built, { recursive: true, force: true });
  });

  const signIn = (credential: string, headers: Record<string, string> = CONSOLE) =>
    fetch(`${base}/console/session`, {
      method: 'POST',
      headers: { ...JSON_BODY, ...headers },
      body: JSON.stringify({ credential }),
    });
  const listCall = (headers: Record<string, string>) =>
    fetch(`${base}/trpc/listDeletionRequests?input=${encodeURIComponent('{}')}`, { headers });

  it('serves every screen the page with a strict CSP, no framing and no sniffing; assets cached for good', async () => {
    for (const path of ['/console', '/console/', '/console/requests/abc', '/console/audit']) {
      const page = await fetch(base + path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('cache-control')).toBe('no-store');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
    const asset = await fetch(`${base}/console/assets/a.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // Nothing outside the built folder, however the path is spelled.
    for (const path of [
      '/console/assets/../../package.json',
      '/console/%2e%2e/%2e%2e/package.json',
      '/console/assets/..%2f..%2fpackage.json',
      '/console/missing.js',
      // A hashed asset that is not there is not the page (which must never be cached for good).
      '/console/assets/nope',
    ])
      expect((await fetch(base + path)).status, path).toBe(404);
    expect((await fetch(`${base}/console/`, { method: 'POST' })).status).toBe(405);
  });

  it('signs in into a sealed HttpOnly, SameSite=Strict cookie, and never without the console header', async () => {
    const admin = await adminAuth('admin-console');
    expect((await signIn(admin.token, {})).status).toBe(403);
    expect((await signIn('not-a-valid-credential-at-all')).status).toBe(401);

    const response = await signIn(admin.token);
    expect(response.status).toBe(200);
    const viewer = (await response.json()) as { actor: { id: string }; allowed: string[] };
    expect(viewer.actor.id).toBe('admin-console');
    expect(viewer.allowed).toEqual(expect.arrayContaining(['resumeErasures', 'listAuditEvents']));
    expect(viewer.allowed).not.toContain('approveDeletion');
    const set = response.headers.get('set-cookie') ?? '';
    expect(set).toMatch(
      /^console_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/,
    );
    // The cookie is a session id: the token stays with the service, sealed, under the id's hash.
    expect(set).not.toContain(admin.token.split('.')[1]);
    const id = sessionCookie(response).split('=')[1] ?? '';
    const stored = JSON.stringify(
      await t.app.connection.collection('console_sessions').find().toArray(),
    );
    expect(stored).not.toContain(admin.token.split('.')[1]);
    expect(stored).not.toContain(id);

    // Behind TLS (a proxy says so), the cookie is Secure, under the __Host- prefix.
    const proxied = await signIn(admin.token, { ...CONSOLE, 'x-forwarded-proto': 'https' });
    expect(proxied.headers.get('set-cookie')).toMatch(
      /^__Host-console_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect((await listCall({ cookie: sessionCookie(proxied), ...CONSOLE })).status).toBe(200);

    // A long token (an identity provider's, with many groups) makes no longer a cookie.
    const long = await mintToken({
      sub: 'admin-groups',
      scope: [
        'deletion:admin',
        ...Array.from({ length: 300 }, (_, n) => `group-${String(n)}`),
      ].join(' '),
    });
    expect(long.length).toBeGreaterThan(4000);
    const big = await signIn(long);
    expect(big.status).toBe(200);
    expect((big.headers.get('set-cookie') ?? '').length).toBeLessThan(200);
    expect((await listCall({ cookie: sessionCookie(big), ...CONSOLE })).status).toBe(200);
  });

  it('counts the cookie only with the console header and never on a cross-site call', async () => {
    const cookie = sessionCookie(await signIn((await adminAuth('admin-csrf')).token));
    expect((await listCall({ cookie, ...CONSOLE })).status).toBe(200);
    // A cross-site form, link or image sends the cookie (were it not SameSite) but not the header.
    expect((await listCall({ cookie })).status).toBe(401);
    expect((await listCall({ cookie, ...CONSOLE, 'sec-fetch-site': 'cross-site' })).status).toBe(
      401,
    );
    expect((await listCall({ cookie, ...CONSOLE, 'sec-fetch-site': 'same-site' })).status).toBe(
      401,
    );
    // A mutation only by POST, even from the console.
    const byGet = await fetch(
      `${base}/trpc/resumeErasures?input=${encodeURIComponent(JSON.stringify({ justification: 'a reason long enough' }))}`,
      { headers: { cookie, ...CONSOLE } },
    );
    expect(byGet.status).toBe(405);
    // A changed id names no session.
    const tampered = cookie.replace(
      /=(.{20})(.)/,
      (_, head: string, char: string) => `=${head}${char === 'A' ? 'B' : 'A'}`,
    );
    expect(tampered).not.toBe(cookie);
    expect((await listCall({ cookie: tampered, ...CONSOLE })).status).toBe(401);
  });

  it('says who is signed in, ends with its time or at sign-out, and checks the credential on every call', async () => {
    const approver = await mintToken({
      sub: 'approver-console',
      scope: 'deletion:approve deletion:read',
    });
    const cookie = sessionCookie(await signIn(approver));
    const who = await fetch(`${base}/console/session`, { headers: { cookie, ...CONSOLE } });
    expect(await who.json()).toMatchObject({
      actor: { id: 'approver-console' },
      scopes: ['deletion:approve', 'deletion:read'],
    });
    expect((await fetch(`${base}/console/session`, { headers: { cookie } })).status).toBe(403);

    const out = await fetch(`${base}/console/session/end`, {
      method: 'POST',
      headers: { cookie, ...CONSOLE },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(
      /^console_session=; Path=\/; Max-Age=0; HttpOnly/,
    );
    // Ended for every copy: a cookie kept from before sign-out opens nothing.
    expect((await listCall({ cookie, ...CONSOLE })).status).toBe(401);
    expect(
      (await fetch(`${base}/console/session`, { headers: { cookie, ...CONSOLE } })).status,
    ).toBe(401);

    // A session not ended lasts its hour, and not longer, whatever the browser still sends.
    const kept = sessionCookie(await signIn(approver));
    t.clock.advance(3_599_000);
    expect((await listCall({ cookie: kept, ...CONSOLE })).status).toBe(200);
    t.clock.advance(2_000);
    expect((await listCall({ cookie: kept, ...CONSOLE })).status).toBe(401);
  });
});
