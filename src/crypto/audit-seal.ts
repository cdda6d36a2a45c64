import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { AuditSeal } from '../app/ports.js';
import { DomainError } from '../domain/domain-error.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

const derive = (key: string, purpose: string): Buffer =>
  Buffer.from(hkdfSync('sha256', key, 'account-deletion-audit', purpose, 32));

/**
 * The audit log's keys, both derived (HKDF-SHA256) from one configured secret:
 * an HMAC-SHA256 key for the chain, so that nobody without it can forge or
 * re-chain events, and an AES-256-GCM key for the details.
 */
export const createAuditSeal = (key: string): AuditSeal => {
  const macKey = derive(key, 'chain');
  const encryptionKey = derive(key, 'details');
  return {
    mac: (content) => createHmac('sha256', macKey).update(content).digest('hex'),
    seal: (details) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(details), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open: (sealed) => {
      try {
        const bytes = Buffer.from(sealed, 'base64');
        const decipher = createDecipheriv(
          'aes-256-gcm',
          encryptionKey,
          bytes.subarray(0, IV_BYTES),
        );
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const text = Buffer.concat([
          decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
        return JSON.parse(text) as Record<string, string>;
      } catch (error) {
        throw new DomainError({
          code: 'INTERNAL',
          reason: 'AUDIT_DETAILS_UNREADABLE',
          message: 'the details of an audit event cannot be decrypted with the configured key',
          cause: error,
        });
      }
    },
  };
};
