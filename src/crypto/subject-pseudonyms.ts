import { keyedDigest } from './keyed-digest.js';
import type { SubjectId } from '../domain/ids.js';

/**
 * The keyed pseudonym of a subject: HMAC-SHA256 under a server key, stable
 * (the same subject always gets the same one, so a linked service that keys
 * its data by pseudonym finds it) and not reversible without the key. A
 * pseudonym is its own pseudonym (a request cut down by the retention sweep
 * names its subject by it): `_` is never in a subject id, so none is taken for one.
 */
const PREFIX = 'psn_';

export const createSubjectPseudonyms = (key: string): ((subjectId: SubjectId) => string) => {
  const digest = keyedDigest(key, 'subject');
  return (subjectId) =>
    subjectId.startsWith(PREFIX) ? subjectId : `${PREFIX}${digest(subjectId)}`;
};
