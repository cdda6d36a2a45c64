import { createHmac, timingSafeEqual } from 'node:crypto';
import { keysFrom } from './aes-gcm.js';
import type { ReportLinks } from '../app/ports/report-links.js';

/** What report links are made of: where they point, the secret that signs them, how long they work. */
export interface ReportLinkOptions {
  /** A URL with `{request}` (the request's id) and, to carry the access token, `{token}`; null: no links. */
  readonly template: string | null;
  /** Key material the link secret is derived from (HKDF, a label of its own). */
  readonly keyMaterial: string;
  readonly ttlMs: number;
}

const DERIVATION_LABEL = 'account-deletion/erasure-report-link/v1';

/**
 * Report links whose token is `<expiry in seconds>.<HMAC-SHA256 of request id
 * and expiry>` (base64url): stateless, unguessable (256 bits), expiring, and
 * bound to one request, so a link serves that report only.
 */
export const createReportLinks = (options: ReportLinkOptions): ReportLinks => {
  const secret = keysFrom(options.keyMaterial, '')(DERIVATION_LABEL);
  const macOf = (id: string, expires: number): Buffer =>
    createHmac('sha256', secret)
      .update(`${id}\n${String(expires)}`)
      .digest();
  return {
    urlFor: (id, now) => {
      if (options.template === null) return null;
      const expires = Math.floor((now.getTime() + options.ttlMs) / 1000);
      const token = `${String(expires)}.${macOf(id, expires).toString('base64url')}`;
      return options.template
        .replaceAll('{request}', encodeURIComponent(id))
        .replaceAll('{token}', encodeURIComponent(token));
    },
    verify: (id, token, now) => {
      const match = /^([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (match === null) return false;
      const expires = Number(match[1]);
      if (expires * 1000 <= now.getTime()) return false;
      // Compared as text: base64url ignores a last character's spare bits, so decoding first
      // would take a token changed there for the one issued.
      const given = Buffer.from(match[2] ?? '');
      const expected = Buffer.from(macOf(id, expires).toString('base64url'));
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
};
