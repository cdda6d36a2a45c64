import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { OneTimeCodes } from '../app/ports/one-time-codes.js';
import type { IdGenerator } from '../app/ports/clock.js';
import type { DeletionRequestId } from '../domain/ids.js';

/**
 * One-time codes from the CSPRNG, kept only as HMAC-SHA256 under a server key
 * and bound to their request (the request id is part of the MAC input), so a
 * code of one request never matches another and a database leak reveals none.
 */
export const createHmacOneTimeCodes = (options: { key: string; digits: number }): OneTimeCodes => {
  const mac = (id: DeletionRequestId, code: string): Buffer =>
    createHmac('sha256', options.key).update(`otp\0${id}\0${code}`).digest();
  return {
    generate: () =>
      randomInt(0, 10 ** options.digits)
        .toString()
        .padStart(options.digits, '0'),
    hash: (id, code) => mac(id, code).toString('base64url'),
    matches: (id, code, storedHash) => {
      const stored = Buffer.from(storedHash, 'base64url');
      const candidate = mac(id, code);
      return stored.length === candidate.length && timingSafeEqual(stored, candidate);
    },
    fingerprint: (parts) =>
      createHmac('sha256', options.key)
        .update(`fp\0${parts.join('\0')}`)
        .digest('base64url'),
  };
};

/** Request ids: random UUIDs (122 bits), unguessable by design. */
export const createRandomIds = (): IdGenerator => ({
  newDeletionRequestId: () => randomUUID() as DeletionRequestId,
  newEventId: () => randomUUID(),
});
