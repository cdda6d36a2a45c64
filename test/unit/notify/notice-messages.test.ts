import { describe, expect, it } from 'vitest';
import type { DeletionRequestId } from '../../../src/domain/ids.js';
import { renderErasureCompleted } from '../../../src/notify/notice-messages.js';

describe('the erasure-completed notice', () => {
  const notice = {
    deletionRequestId: 'req-42' as DeletionRequestId,
    to: { email: 'subject@mail.test', phone: null },
    completedAt: new Date('2026-11-29T10:00:00Z'),
  };

  it('names the request and the date, in the account language, and nothing about the subject', () => {
    const en = renderErasureCompleted({ ...notice, locale: null });
    const de = renderErasureCompleted({ ...notice, locale: 'de-AT' });
    expect(en.subject).toBe('Your account has been deleted');
    expect(de.subject).toBe('Ihr Konto wurde gelöscht');
    for (const message of [en, de]) {
      expect(message.text).toContain('req-42');
      expect(message.text).toContain('2026-11-29');
      expect(message.text).not.toContain('subject@mail.test');
    }
  });
});
