import { keyedDigest } from './keyed-digest.js';
import type { SubjectId } from '../domain/ids.js';

/**
 * The keyed pseudonym of a subject: HMAC-SHA256 under a server key, stable
 * (the same subject always gets the same one, so a linked service that keys
 * its data by pseudonym finds it) and not reversible without the key.
 */
export const createSubjectPseudonyms = (key: string): ((subjectId: SubjectId) => string) => {
  const digest = keyedDigest(key, 'subject');
  return (subjectId) => `psn_${digest(subjectId)}`;
};
