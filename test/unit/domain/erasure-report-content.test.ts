import { describe, expect, it } from 'vitest';
import { erasureReportContent } from '../../../src/domain/erasure-report-content.js';
import type { ErasureOutcome, ParticipantStep } from '../../../src/domain/erasure-steps.js';
import {
  aDeletionRequest,
  anAnsweredStep,
  BUILT_AT,
} from '../../fixtures/deletion-request-builder.js';
import { participantSpec } from '../../support/fakes/index.js';

const done = (outcome: ErasureOutcome): ParticipantStep => anAnsweredStep(outcome, BUILT_AT);

const specs = [
  participantSpec('archive', {
    categories: ['invoices', 'contracts'],
    owner: { team: 'finance', webhook: 'https://hooks.test/finance' },
    legalBasis: 'tax law: invoices are kept 10 years',
  }),
  participantSpec('crm', { owner: { team: 'customer-care' } }),
  participantSpec('vault', { legalBasis: 'anti-money-laundering law: 5 years' }),
];
const until = new Date('2036-12-31T00:00:00.000Z');
const request = aDeletionRequest({
  state: 'ERASING',
  participants: {
    crm: done({ kind: 'ERASED', records: 3, categories: ['profile'] }),
    archive: done({
      kind: 'RETAINED',
      legalBasis: 'commercial law: invoices, 10 years',
      categories: ['invoices'],
      until,
      erasedRecords: 4,
    }),
    vault: done({ kind: 'RETAINED', legalBasis: '', categories: ['kyc'], until, erasedRecords: 0 }),
    gone: done({ kind: 'NOTHING_FOUND' }),
  },
});
const local = { accounts: 1, sessions: 0, apiTokens: 0 };
const content = erasureReportContent(request, local, { completedAt: BUILT_AT, specs });
const entry = (name: string) =>
  content.participants.find((participant) => participant.name === name);

describe('the erasure report’s content (version 2)', () => {
  it('names, per linked service, what it holds as registered: its categories and its team', () => {
    expect(content.version).toBe(2);
    expect(entry('archive')?.registered).toEqual({
      team: 'finance',
      categories: ['invoices', 'contracts'],
      legalBasis: 'tax law: invoices are kept 10 years',
    });
    // No categories registered: the deletion covered everything it holds.
    expect(entry('crm')?.registered).toEqual({
      team: 'customer-care',
      categories: [],
      legalBasis: null,
    });
  });

  it('gives the answer’s legal basis for what was kept, else the registered one', () => {
    expect(entry('archive')).toMatchObject({
      outcome: 'RETAINED',
      categories: ['invoices'],
      legalBasis: 'commercial law: invoices, 10 years',
      legalBasisSource: 'ANSWER',
      retainedUntil: until.toISOString(),
    });
    expect(entry('vault')).toMatchObject({
      legalBasis: 'anti-money-laundering law: 5 years',
      legalBasisSource: 'REGISTRATION',
    });
    expect(entry('crm')).toMatchObject({
      outcome: 'ERASED',
      records: 3,
      legalBasis: null,
      legalBasisSource: null,
    });
  });

  it('says a service was no longer registered, and leaves no webhook in the report', () => {
    expect(entry('gone')).toMatchObject({ outcome: 'NOTHING_FOUND', registered: null });
    expect(JSON.stringify(content)).not.toContain('hooks.test');
  });
});
