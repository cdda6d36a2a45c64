import { describe, expect, it } from 'vitest';
import { authorize, assertReaches, operations } from '../../../src/domain/authorization.js';
import {
  addLegalPeriod,
  defaultLegalClocks,
  extendedDeadline,
  legalDeadline,
  parseLegalClocks,
} from '../../../src/domain/legal-deadline.js';
import type { Principal, Scope } from '../../../src/domain/principal.js';
import { assessRisk } from '../../../src/domain/risk-policy.js';

const principal = (scopes: Scope[], id = 'u1'): Principal => ({
  actor: { kind: 'USER', id },
  scopes: new Set(scopes),
  ownSubjectId: id,
  authTime: null,
  amr: [],
});

describe('authorize', () => {
  it('denies every operation to a principal without scopes', () => {
    for (const operation of operations) {
      expect(() => authorize(principal([]), operation)).toThrow(
        expect.objectContaining({ code: 'PERMISSION_DENIED' }),
      );
    }
  });

  it('limits deletion:self to the caller’s own subject', () => {
    const reach = authorize(principal(['deletion:self']), 'getDeletionRequest');
    expect(reach).toEqual({ kind: 'OWN', subjectId: 'u1' });
    expect(() => assertReaches(reach, 'u1', 'getDeletionRequest')).not.toThrow();
    expect(() => assertReaches(reach, 'u2', 'getDeletionRequest')).toThrow(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
    expect(() => assertReaches(reach, undefined, 'getDeletionRequest')).toThrow(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
  });

  it('never lets deletion:self approve', () => {
    expect(() => authorize(principal(['deletion:self']), 'approveDeletion')).toThrow(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
  });

  it('gives the participant scope only ReportErasureOutcome and CheckErasedSubjects', () => {
    const participant = principal(['deletion:participant']);
    const allowed = operations.filter((operation) => {
      try {
        authorize(participant, operation);
        return true;
      } catch {
        return false;
      }
    });
    expect(allowed).toEqual(['reportErasureOutcome', 'checkErasedSubjects']);
  });
});

describe('risk policy', () => {
  const config = { privilegedRoles: ['admin', 'owner'], alwaysRequireApproval: false };

  it('is low risk for a plain subject deleting their own account', () => {
    expect(
      assessRisk(
        { subjectRoles: ['member'], subjectFlagged: false, requestedBySubject: true },
        config,
      ),
    ).toEqual([]);
  });

  it('names every reason that applies', () => {
    expect(
      assessRisk(
        { subjectRoles: ['owner'], subjectFlagged: true, requestedBySubject: false },
        { ...config, alwaysRequireApproval: true },
      ),
    ).toEqual([
      'SUBJECT_PRIVILEGED_ROLE',
      'REQUESTED_BY_OTHER',
      'SUBJECT_FLAGGED',
      'POLICY_ALWAYS',
    ]);
  });
});

describe('legal deadline', () => {
  it('is one calendar month under GDPR, clamped to the month’s end', () => {
    expect(legalDeadline('GDPR', new Date('2026-01-15T08:00:00Z'))).toEqual(
      new Date('2026-02-15T08:00:00Z'),
    );
    expect(legalDeadline('GDPR', new Date('2026-01-31T08:00:00Z'))).toEqual(
      new Date('2026-02-28T08:00:00Z'),
    );
    expect(legalDeadline('GDPR', new Date('2026-12-20T00:00:00Z'))).toEqual(
      new Date('2027-01-20T00:00:00Z'),
    );
  });

  it('is 45 days under CCPA', () => {
    expect(legalDeadline('CCPA', new Date('2026-01-01T00:00:00Z'))).toEqual(
      new Date('2026-02-15T00:00:00Z'),
    );
  });
});

describe('legal clocks', () => {
  it('extends GDPR by two calendar months, clamped (29 December → 28 February, 29 in a leap year)', () => {
    expect(extendedDeadline('GDPR', new Date('2026-12-29T12:00:00Z'))).toEqual(
      new Date('2027-02-28T12:00:00Z'),
    );
    expect(extendedDeadline('GDPR', new Date('2027-12-31T12:00:00Z'))).toEqual(
      new Date('2028-02-29T12:00:00Z'),
    );
    expect(extendedDeadline('CCPA', new Date('2026-01-01T00:00:00Z'))).toEqual(
      new Date('2026-02-15T00:00:00Z'),
    );
  });

  it('reads LEGAL_CLOCKS: each named jurisdiction replaced, the others kept', () => {
    const clocks = parseLegalClocks('CCPA=30D+15D');
    expect(clocks).toEqual({
      GDPR: defaultLegalClocks.GDPR,
      CCPA: { deadline: { days: 30 }, extension: { days: 15 } },
    });
    expect(legalDeadline('CCPA', new Date('2026-01-01T00:00:00Z'), clocks)).toEqual(
      new Date('2026-01-31T00:00:00Z'),
    );
    expect(parseLegalClocks('gdpr=2m+1m')?.GDPR).toEqual({
      deadline: { months: 2 },
      extension: { months: 1 },
    });
    for (const bad of ['GDPR=1M', 'LGPD=15D+15D', 'GDPR=0M+2M', 'GDPR=1Y+2M', 'GDPR=1M+2M;'])
      expect(parseLegalClocks(bad)).toBeUndefined();
    expect(addLegalPeriod(new Date('2026-01-31T00:00:00Z'), { months: 1 })).toEqual(
      new Date('2026-02-28T00:00:00Z'),
    );
  });
});
