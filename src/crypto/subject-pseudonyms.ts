import { createHmac } from 'node:crypto';
import type { SubjectId } from '../domain/ids.js';

/**
 * The keyed pseudonym of a subject: HMAC-SHA256 under a server key, stable
 * (the same subject always gets the same one, so a linked service that keys
 * its data by pseudonym finds it) and not reversible without the key.
 */
export const createSubjectPseudonyms =
  (key: string) =>
  (subjectId: SubjectId): string =>
    `psn_${createHmac('sha256', key).update(`subject\0${subjectId}`).digest('base64url').slice(0, 32)}`;
