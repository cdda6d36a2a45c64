import { describe, expect, it } from 'vitest';
import type { DeletionRequestId } from '../../../src/domain/ids.js';
import {
  subjectNoticeKinds,
  type SubjectNotice,
  type SubjectNoticeKind,
} from '../../../src/domain/subject-notice.js';
import { renderNotice } from '../../../src/notify/notice-messages.js';

const id = 'req-42' as DeletionRequestId;
const now = new Date('2026-11-29T10:00:00Z');
const day = new Date('2026-12-29T10:00:00Z');

/** One notice of every kind, with the facts it carries. */
const notices: Readonly<Record<SubjectNoticeKind, SubjectNotice>> = {
  RECEIPT: { kind: 'RECEIPT', deletionRequestId: id, deadline: day },
  CONFIRMATION_CODE: {
    kind: 'CONFIRMATION_CODE',
    deletionRequestId: id,
    code: '73910254',
    expiresAt: new Date(now.getTime() + 10 * 60_000),
  },
  SCHEDULED: { kind: 'SCHEDULED', deletionRequestId: id, purgeAt: day },
  AWAITING_APPROVAL: { kind: 'AWAITING_APPROVAL', deletionRequestId: id },
  REJECTED: { kind: 'REJECTED', deletionRequestId: id },
  RESTORED: { kind: 'RESTORED', deletionRequestId: id },
  DEADLINE_EXTENDED: {
    kind: 'DEADLINE_EXTENDED',
    deletionRequestId: id,
    deadline: day,
    reason: 'backups must be restored to find every copy',
  },
  COMPLETED: {
    kind: 'COMPLETED',
    deletionRequestId: id,
    completedAt: day,
    reportUrl: null,
    report: null,
  },
};
const completed = {
  kind: 'COMPLETED',
  deletionRequestId: id,
  completedAt: day,
  report: null,
} as const;

/** The dates each kind names, as the language writes them. */
const dated: Partial<Record<SubjectNoticeKind, true>> = {
  RECEIPT: true,
  SCHEDULED: true,
  DEADLINE_EXTENDED: true,
  COMPLETED: true,
};

describe('notice templates', () => {
  it.each(subjectNoticeKinds)(
    '%s: subject, text, HTML and short text in English and German, naming the request',
    (kind) => {
      const en = renderNotice(notices[kind], 'en-US', now);
      const de = renderNotice(notices[kind], 'de-AT', now);
      expect(de.subject).not.toBe(en.subject);
      for (const [message, date] of [
        [en, '29 December 2026'],
        [de, '29. Dezember 2026'],
      ] as const) {
        // Every notice names its request (the code's SMS or push is the code alone: it is short).
        for (const part of [message.text, message.html]) expect(part).toContain('req-42');
        if (kind !== 'CONFIRMATION_CODE') expect(message.short).toContain('req-42');
        if (dated[kind]) {
          expect(message.text).toContain(date);
          expect(message.html).toContain(date);
        }
        expect(message.html).toMatch(/^<!doctype html>/);
        expect(message.html).toContain(`<title>${message.subject}</title>`);
        // An SMS of at most a few segments; a push body a lock screen can show.
        expect(message.short.length).toBeLessThanOrEqual(160);
      }
    },
  );

  it('falls back to English for a language it has no template for, or no locale', () => {
    const english = renderNotice(notices.RESTORED, 'en', now);
    expect(renderNotice(notices.RESTORED, 'fr-FR', now)).toEqual(english);
    expect(renderNotice(notices.RESTORED, null, now)).toEqual(english);
    expect(renderNotice(notices.RESTORED, 'de', now).html).toContain('<html lang="de">');
  });

  it('puts the code on a line of its own and says how long it is valid', () => {
    const message = renderNotice(notices.CONFIRMATION_CODE, null, now);
    expect(message.text).toMatch(/^ {4}73910254$/m);
    expect(message.text).toContain('valid for 10 minutes');
    expect(message.html).toContain('<strong>73910254</strong>');
    expect(message.short).toContain('73910254');
  });

  it('gives the reason of an extension, escaped in HTML', () => {
    const notice = {
      ...notices.DEADLINE_EXTENDED,
      reason: 'a <b>complex</b> request & "many" systems',
    } as const;
    const message = renderNotice(notice, null, now);
    expect(message.text).toContain('The reason: a <b>complex</b> request & "many" systems');
    expect(message.html).toContain(
      'a &lt;b&gt;complex&lt;/b&gt; request &amp; &quot;many&quot; systems',
    );
    expect(message.html).not.toContain('<b>');
  });

  it('links the erasure report when there is a link, else says how to ask for it', () => {
    const url = 'https://privacy.example.test/reports/req-42?format=pdf&lang=en';
    const linked = renderNotice({ ...completed, reportUrl: url }, null, now);
    expect(linked.text).toContain(url);
    const href = url.replace('&', '&amp;');
    expect(linked.html).toContain(`<a href="${href}">${href}</a>`);
    expect(renderNotice(notices.COMPLETED, null, now).text).toContain('quote the request');
    // By SMS or push the link is all there is room for, and all the subject needs.
    expect(linked.short).toContain(url);
  });

  it('says the signed report is attached when it is, in English and German', () => {
    const report = { payload: '{}', signature: 'c2ln', keyId: 'k', algorithm: 'Ed25519' } as const;
    const attached = { ...completed, reportUrl: null, report };
    expect(renderNotice(attached, null, now).text).toContain('erasure-report.json');
    expect(renderNotice(attached, null, now).text).not.toContain('quote the request');
    expect(renderNotice(attached, 'de', now).text).toContain('Löschbericht ist angehängt');
    expect(renderNotice({ ...completed, reportUrl: null }, null, now).text).not.toContain(
      'attached',
    );
  });
});
