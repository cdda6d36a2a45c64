import { describe, expect, it } from 'vitest';
import { createDeletionService } from '../../../src/app/deletion-service.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { Principal } from '../../../src/domain/principal.js';
import { aDeletionRequest, aStep } from '../../fixtures/deletion-request-builder.js';
import { FAKE_START, fakeDeletionDeps } from '../../support/fakes/index.js';

const DAY = 86_400_000;
/** `offsetMs` after the fake clock's start (now). */
const at = (offsetMs: number) => new Date(FAKE_START.getTime() + offsetMs);

const reader: Principal = {
  actor: { kind: 'USER', id: 'sre-counts' },
  scopes: new Set(['deletion:read']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

const countsOver = async (requests: readonly DeletionRequest[]) => {
  const deps = fakeDeletionDeps();
  for (const request of requests) await deps.fakes.requests.insert(request);
  return createDeletionService(deps);
};

const noneByState = {
  REQUESTED: 0,
  AWAITING_APPROVAL: 0,
  SCHEDULED: 0,
  RESTORED: 0,
  CANCELLED: 0,
  REJECTED: 0,
  EXPIRED: 0,
  ERASING: 0,
  COMPLETED: 0,
  NEEDS_ATTENTION: 0,
};

describe('CountDeletionRequests', () => {
  it('answers every state, zeros included, and the open requests past or due within N days', async () => {
    const service = await countsOver([
      aDeletionRequest({ legalDeadline: at(-DAY) }),
      aDeletionRequest({ state: 'SCHEDULED', legalDeadline: at(3 * DAY) }),
      aDeletionRequest({ state: 'SCHEDULED', legalDeadline: at(10 * DAY) }),
      aDeletionRequest({ state: 'COMPLETED', legalDeadline: at(-DAY) }),
      aDeletionRequest({
        state: 'NEEDS_ATTENTION',
        jurisdiction: 'CCPA',
        legalDeadline: at(DAY),
        participants: { crm: aStep('FAILED') },
      }),
    ]);

    expect(await service.countDeletionRequests(reader, {})).toEqual({
      byState: { ...noneByState, REQUESTED: 1, SCHEDULED: 2, COMPLETED: 1, NEEDS_ATTENTION: 1 },
      pastDeadline: 1,
      dueSoon: 2,
      dueWithinDays: 7,
      countedAt: at(0),
    });
    expect(await service.countDeletionRequests(reader, { dueWithinDays: 14 })).toMatchObject({
      dueSoon: 3,
      dueWithinDays: 14,
    });
    expect(
      await service.countDeletionRequests(reader, { jurisdiction: 'CCPA', linkedService: 'crm' }),
    ).toMatchObject({ byState: { ...noneByState, NEEDS_ATTENTION: 1 }, pastDeadline: 0 });
    expect(await service.countDeletionRequests(reader)).toMatchObject({ dueWithinDays: 7 });
    expect(
      await service.countDeletionRequests(reader, {
        linkedService: 'crm',
        linkedServiceStep: 'WAITING',
      }),
    ).toMatchObject({ byState: noneByState });
    expect(
      await service.countDeletionRequests(reader, {
        linkedService: 'crm',
        linkedServiceStep: 'FAILED',
      }),
    ).toMatchObject({ byState: { ...noneByState, NEEDS_ATTENTION: 1 } });
  });

  it('is for readers of any subject, not for a subject, and refuses a window out of range', async () => {
    const service = await countsOver([]);
    const subject: Principal = {
      ...reader,
      scopes: new Set(['deletion:self']),
      ownSubjectId: 'me',
    };
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'OK',
        (error: unknown) => (DomainError.is(error) ? error.code : String(error)),
      );
    expect(await codeOf(service.countDeletionRequests(subject, {}))).toBe('PERMISSION_DENIED');
    expect(await codeOf(service.countDeletionRequests(reader, { dueWithinDays: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(service.countDeletionRequests(reader, { dueWithinDays: 367 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await codeOf(service.countDeletionRequests(reader, { linkedServiceStep: 'FAILED' })),
    ).toBe('INVALID_ARGUMENT');
  });
});
