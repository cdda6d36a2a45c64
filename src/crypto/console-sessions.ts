import { gcmDecrypt, gcmEncrypt, keysFrom } from './aes-gcm.js';

/** What a console session is made of: the secret that seals it, how long it lasts. */
export interface ConsoleSessionOptions {
  /** Key material the sealing key is derived from (HKDF, a purpose of its own). */
  readonly keyMaterial: string;
  readonly ttlMs: number;
}

/** The credential a console session carries: a bearer token or an API key, as the caller gave it. */
export type ConsoleCredential =
  | { readonly kind: 'token'; readonly value: string }
  | { readonly kind: 'apiKey'; readonly value: string };

/** Seals and opens console sessions (the cookie's value). */
export interface ConsoleSessions {
  /** The sealed session for `credential`, valid for the configured time from `now`. */
  seal(credential: ConsoleCredential, now: Date): string;
  /** The credential of a session this service sealed and that has not expired; null otherwise. */
  open(sealed: string, now: Date): ConsoleCredential | null;
  readonly ttlMs: number;
}

const AAD = 'account-deletion/console-session/v1';

/**
 * Console sessions sealed with AES-256-GCM under a key of their own: the
 * cookie holds the caller's credential and its expiry, readable by no one but
 * this service (not by the browser's scripts: the cookie is HttpOnly; not by
 * someone who copies it from the browser's disk without the service's key).
 * The credential is checked again on every call, so an expired or revoked
 * token or key ends the session too.
 */
export const createConsoleSessions = (options: ConsoleSessionOptions): ConsoleSessions => {
  const key = keysFrom(options.keyMaterial, 'console')('session');
  return {
    ttlMs: options.ttlMs,
    seal: (credential, now) =>
      gcmEncrypt(
        key,
        AAD,
        Buffer.from(JSON.stringify({ ...credential, expires: now.getTime() + options.ttlMs })),
      ).toString('base64url'),
    open: (sealed, now) => {
      if (!/^[A-Za-z0-9_-]{40,8192}$/.test(sealed)) return null;
      try {
        const opened = JSON.parse(
          gcmDecrypt(key, AAD, Buffer.from(sealed, 'base64url')).toString('utf8'),
        ) as { kind?: unknown; value?: unknown; expires?: unknown };
        const { kind, value, expires } = opened;
        if (typeof expires !== 'number' || expires <= now.getTime()) return null;
        if ((kind !== 'token' && kind !== 'apiKey') || typeof value !== 'string') return null;
        return { kind, value };
      } catch {
        return null;
      }
    },
  };
};
