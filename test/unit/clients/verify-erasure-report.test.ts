import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ErasureReportInvalid,
  verifyErasureReport,
} from '../../../clients/erasure-report/verify-erasure-report.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signed = (content: object) => {
  const payload = JSON.stringify(content);
  return { payload, signature: sign(null, Buffer.from(payload), privateKey).toString('base64') };
};

/** A report as version 1 wrote it (before December 2026): no registration per service. */
const version1 = {
  version: 1,
  deletionRequest: 'deletionRequests/r-1',
  subjectId: 'subject-1',
  jurisdiction: 'GDPR',
  requestedAt: '2026-03-10T09:30:00.000Z',
  legalDeadline: '2026-04-10T09:30:00.000Z',
  completedAt: '2026-03-11T09:30:00.000Z',
  local: { accounts: 1, sessions: 0, apiTokens: 0 },
  participants: [
    {
      name: 'archive',
      outcome: 'RETAINED',
      records: 4,
      categories: ['invoices'],
      legalBasis: 'commercial law: invoices, 10 years',
      retainedUntil: '2036-12-31T00:00:00.000Z',
      justification: null,
      answeredAt: '2026-03-11T09:29:00.000Z',
    },
  ],
};

describe('verifyErasureReport across report versions', () => {
  it('still verifies a version 1 report, signed before version 2', () => {
    const content = verifyErasureReport(signed(version1), publicKeyPem);
    expect(content.version).toBe(1);
    expect(content.participants[0]?.registered).toBeUndefined();
  });

  it('verifies a version 2 report with what each service holds as registered', () => {
    const [archive] = version1.participants;
    const version2 = {
      ...version1,
      version: 2,
      participants: [
        {
          ...archive,
          legalBasisSource: 'ANSWER',
          registered: { team: 'finance', categories: ['invoices'], legalBasis: 'tax law' },
        },
      ],
    };
    const content = verifyErasureReport(signed(version2), publicKeyPem);
    expect(content.participants[0]).toMatchObject({
      legalBasisSource: 'ANSWER',
      registered: { team: 'finance', categories: ['invoices'] },
    });
  });

  it('refuses a report of a version it does not read, though its signature is good', () => {
    expect(() => verifyErasureReport(signed({ ...version1, version: 3 }), publicKeyPem)).toThrow(
      ErasureReportInvalid,
    );
  });
});
