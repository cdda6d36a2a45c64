import { describe, expect, it } from 'vitest';
import { createReportLinks } from '../../../src/crypto/report-links.js';
import type { DeletionRequestId } from '../../../src/domain/ids.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const now = new Date('2026-12-06T12:00:00Z');
const id = 'req-1' as DeletionRequestId;
const links = createReportLinks({
  template: 'https://privacy.example.test/erasure-reports/{request}?token={token}',
  keyMaterial: 'key-material-of-this-test',
  ttlMs: 86_400_000,
});
const tokenOf = (url: string | null) => new URL(url ?? '').searchParams.get('token') ?? '';

describe('report links', () => {
  it('verify for their request until they expire, and for nothing else', () => {
    const token = tokenOf(links.urlFor(id, now));
    expect(links.verify(id, token, now)).toBe(true);
    expect(links.verify(id, token, new Date(now.getTime() + 86_399_000))).toBe(true);
    expect(links.verify(id, token, new Date(now.getTime() + 86_401_000))).toBe(false);
    expect(links.verify('req-2', token, now)).toBe(false);
    expect(links.verify(id, 'not-a-token', now)).toBe(false);
  });

  it('refuse a token whose last character differs only in bits base64url does not use', () => {
    const token = tokenOf(links.urlFor(id, now));
    const last = token.at(-1) ?? '';
    // A MAC of 32 bytes is 43 characters: the last one's two low bits are spare.
    const twin = `${token.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(last) ^ 1] ?? ''}`;
    expect(Buffer.from(twin.split('.')[1] ?? '', 'base64url')).toEqual(
      Buffer.from(token.split('.')[1] ?? '', 'base64url'),
    );
    expect(links.verify(id, twin, now)).toBe(false);
  });

  it('make no link without a template', () => {
    const none = createReportLinks({ template: null, keyMaterial: 'k', ttlMs: 1000 });
    expect(none.urlFor(id, now)).toBeNull();
  });
});
