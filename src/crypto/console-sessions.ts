import { createHash, randomBytes } from 'node:crypto';
import type { ConsoleCredential } from '../app/ports/console-sessions.js';
import { gcmDecrypt, gcmEncrypt, keysFrom } from './aes-gcm.js';

/** Seals a session's credential at rest, bound to the session it belongs to. */
export interface ConsoleSessionSeal {
  /** A fresh session id (256 random bits, base64url) and the key it is stored under (its SHA-256). */
  newId(): { readonly id: string; readonly key: string };
  /** The key a presented id is stored under; null when it is not the shape of an id we issue. */
  keyOf(id: string): string | null;
  seal(credential: ConsoleCredential, key: string): string;
  /** The credential sealed for this session key; null when it does not open. */
  open(sealed: string, key: string): ConsoleCredential | null;
}

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const keyOfId = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * Session ids and the sealing of their credentials: AES-256-GCM under a key
 * of its own (HKDF from the configured secret), each credential bound to its
 * session's key, so a stolen copy of the collection opens nothing without the
 * service's secret, and a session id is never stored (only its hash).
 */
export const createConsoleSessionSeal = (keyMaterial: string): ConsoleSessionSeal => {
  const key = keysFrom(keyMaterial, 'console')('session');
  return {
    newId: () => {
      const id = randomBytes(32).toString('base64url');
      return { id, key: keyOfId(id) };
    },
    keyOf: (id) => (ID_SHAPE.test(id) ? keyOfId(id) : null),
    seal: (credential, sessionKey) =>
      gcmEncrypt(key, sessionKey, Buffer.from(JSON.stringify(credential))).toString('base64'),
    open: (sealed, sessionKey) => {
      try {
        const { kind, value } = JSON.parse(
          gcmDecrypt(key, sessionKey, Buffer.from(sealed, 'base64')).toString('utf8'),
        ) as { kind?: unknown; value?: unknown };
        if ((kind !== 'token' && kind !== 'apiKey') || typeof value !== 'string') return null;
        return { kind, value };
      } catch {
        return null;
      }
    },
  };
};
