import { describe, expect, it } from 'vitest';
import { sweepRecord } from '../../../src/domain/retention.js';
import { aDeletionRequest } from '../../fixtures/deletion-request-builder.js';

describe('sweepRecord', () => {
  it('keeps states, times and outcomes, names the subject only by pseudonym, and drops every free text', () => {
    const now = new Date('2027-06-01T00:00:00Z');
    const request = aDeletionRequest({ state: 'COMPLETED', reason: 'moving away' });
    const subject = { kind: 'USER', id: request.subjectId } as const;
    const admin = { kind: 'USER', id: 'admin-1' } as const;
    const full = {
      ...request,
      requester: subject,
      reviewer: admin,
      reviewNote: 'looks fine',
      history: [
        {
          from: 'REQUESTED',
          to: 'SCHEDULED',
          actor: subject,
          at: now,
          note: 'CONFIRMED_WITH_CODE',
          traceId: 't',
          spanId: 's',
        },
        {
          from: 'SCHEDULED',
          to: 'ERASING',
          actor: admin,
          at: now,
          note: 'GRACE_PERIOD_ELAPSED',
          traceId: 't',
          spanId: 's',
        },
      ],
      deadlineExtension: {
        previousDeadline: now,
        reason: 'export first',
        actor: admin,
        at: now,
        traceId: 't',
      },
      participants: {
        crm: {
          status: 'DONE',
          attempts: 1,
          lastErrorCode: null,
          nextAttemptAt: null,
          expectedBy: null,
          outcome: {
            kind: 'MANUAL',
            records: 3,
            justification: 'deleted by hand for the subject',
            resolvedBy: 'admin-1',
          },
          updatedAt: now,
        },
      },
      report: { payload: '{"subjectId":"x"}', signature: 'sig', keyId: 'k', algorithm: 'Ed25519' },
    } as const;
    const cut = sweepRecord(full, { pseudonym: 'psn_abc', reportSha256: 'f'.repeat(64), now });
    expect(cut).toMatchObject({
      subjectId: 'psn_abc',
      requester: { kind: 'USER', id: 'psn_abc' },
      reviewer: admin,
      reason: '',
      reviewNote: null,
      report: null,
      finalNotice: null,
      outbox: [],
      idempotencyKey: null,
      deadlineExtension: { reason: '', actor: admin, previousDeadline: now },
      retention: { sweptAt: now, reportSha256: 'f'.repeat(64) },
      version: full.version + 1,
      state: 'COMPLETED',
      legalDeadline: full.legalDeadline,
    });
    expect(cut.history.map((change) => [change.to, change.actor.id, change.at])).toEqual([
      ['SCHEDULED', 'psn_abc', now],
      ['ERASING', 'admin-1', now],
    ]);
    expect(cut.participants.crm?.outcome).toEqual({
      kind: 'MANUAL',
      records: 3,
      justification: '',
      resolvedBy: 'admin-1',
    });
    expect(JSON.stringify(cut)).not.toContain(request.subjectId);
  });
});
