import { describe, expect, it } from 'vitest';
import { createSubjectPseudonyms } from '../../../src/crypto/subject-pseudonyms.js';
import type { SubjectId } from '../../../src/domain/ids.js';

describe('subject pseudonyms', () => {
  const alice = 'alice' as SubjectId;
  const pseudonymOf = createSubjectPseudonyms('a-pseudonym-key-of-at-least-32-characters');

  it('is stable per subject and key, differs between subjects and keys, and hides the id', () => {
    expect(pseudonymOf(alice)).toBe(pseudonymOf(alice));
    expect(pseudonymOf(alice)).toMatch(/^psn_[A-Za-z0-9_-]{32}$/);
    expect(pseudonymOf(alice)).not.toContain('alice');
    expect(pseudonymOf('bob' as SubjectId)).not.toBe(pseudonymOf(alice));
    expect(createSubjectPseudonyms('another-key-of-at-least-32-characters!!')(alice)).not.toBe(
      pseudonymOf(alice),
    );
  });
});
