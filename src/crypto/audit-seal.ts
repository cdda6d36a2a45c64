import { createHmac } from 'node:crypto';
import type { AuditSeal } from '../app/ports/audit-log.js';
import { DomainError } from '../domain/domain-error.js';
import { gcmDecrypt, gcmEncrypt, keysFrom } from './aes-gcm.js';

/** Details are bound to nothing else: the chain's keyed hash covers where they stand. */
const NO_AAD = '';

/**
 * The audit log's keys, both derived (HKDF-SHA256) from one configured secret:
 * an HMAC-SHA256 key for the chain, so that nobody without it can forge or
 * re-chain events, and an AES-256-GCM key for the details.
 */
export const createAuditSeal = (key: string): AuditSeal => {
  const derive = keysFrom(key, 'account-deletion-audit');
  const macKey = derive('chain');
  const encryptionKey = derive('details');
  return {
    mac: (content) => createHmac('sha256', macKey).update(content).digest('hex'),
    seal: (details) =>
      gcmEncrypt(encryptionKey, NO_AAD, Buffer.from(JSON.stringify(details), 'utf8')).toString(
        'base64',
      ),
    open: (sealed) => {
      try {
        const text = gcmDecrypt(encryptionKey, NO_AAD, Buffer.from(sealed, 'base64'));
        return JSON.parse(text.toString('utf8')) as Record<string, string>;
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
