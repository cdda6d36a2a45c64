import { describe, expect, it } from 'vitest';
import { createDeletionService } from '../../../src/app/deletion-service.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { Principal } from '../../../src/domain/principal.js';
import { aDeletionRequest, aStep, BUILT_AT } from '../../fixtures/deletion-request-builder.js';
import { fakeDeletionDeps } from '../../support/fakes/index.js';

// The queue's filters and paging on fakes; the contract suite holds the Mongo adapter to the
// same queries, test/e2e/console-queue.test.ts the transports.

const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(BUILT_AT.getTime() + offsetMs);

const reader: Principal = {
  actor: { kind: 'SERVICE', id: 'console' },
  scopes: new Set(['deletion:read']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

/** The service over fakes holding `requests`. */
const queue = async (requests: readonly DeletionRequest[]) => {
  const deps = fakeDeletionDeps();
  for (const request of requests) await deps.fakes.requests.insert(request);
  return createDeletionService(deps);
};

const names = (page: { deletionRequests: readonly DeletionRequest[] }) =>
  page.deletionRequests.map((request) => request.id);

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: unknown) => (DomainError.is(error) ? `${error.code} ${error.reason}` : String(error)),
  );

describe('ListDeletionRequests filters and pages', () => {
  it('pages the requests due before a time soonest first, the token holding the position', async () => {
    const deadlines = [4 * DAY, DAY, 3 * DAY, 2 * DAY, 9 * DAY];
    const requests = deadlines.map((offset, n) =>
      aDeletionRequest({ legalDeadline: at(offset), createdAt: at(n) }),
    );
    const closed = aDeletionRequest({ state: 'CANCELLED', legalDeadline: at(0) });
    const service = await queue([...requests, closed]);
    const deadlineBefore = at(5 * DAY);

    const first = await service.listDeletionRequests(reader, { deadlineBefore, pageSize: 2 });
    const second = await service.listDeletionRequests(reader, {
      deadlineBefore,
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...names(first), ...names(second)]).toEqual([1, 3, 2, 0].map((n) => requests[n]?.id));
    expect(second.nextPageToken).toBe('');
  });

  it('refuses a page token with other filters than it was issued for', async () => {
    const requests = Array.from({ length: 3 }, (_, n) =>
      aDeletionRequest({ createdAt: at(n), jurisdiction: 'CCPA' }),
    );
    const service = await queue(requests);
    const { nextPageToken } = await service.listDeletionRequests(reader, {
      jurisdiction: 'CCPA',
      pageSize: 1,
    });

    const next = (input: object) =>
      refusal(
        service.listDeletionRequests(reader, { pageSize: 1, pageToken: nextPageToken, ...input }),
      );
    expect(await next({ jurisdiction: 'CCPA' })).toBe('OK');
    expect(await next({})).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');
    expect(await next({ jurisdiction: 'GDPR' })).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');
    expect(await next({ jurisdiction: 'CCPA', linkedService: 'crm' })).toBe(
      'INVALID_ARGUMENT INVALID_ARGUMENT',
    );
    expect(await next({ jurisdiction: 'CCPA', deadlineBefore: at(DAY) })).toBe(
      'INVALID_ARGUMENT INVALID_ARGUMENT',
    );
  });

  it('keeps paging where it was while newer requests arrive', async () => {
    const requests = Array.from({ length: 4 }, (_, n) => aDeletionRequest({ createdAt: at(n) }));
    const deps = fakeDeletionDeps();
    for (const request of requests) await deps.fakes.requests.insert(request);
    const service = createDeletionService(deps);

    const first = await service.listDeletionRequests(reader, { pageSize: 2 });
    await deps.fakes.requests.insert(aDeletionRequest({ createdAt: at(10) }));
    const second = await service.listDeletionRequests(reader, {
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect([...names(first), ...names(second)]).toEqual([3, 2, 1, 0].map((n) => requests[n]?.id));
  });

  it('lists the requests whose step at a linked service is not finished', async () => {
    const erasing = (participants: DeletionRequest['participants'], state = 'ERASING' as const) =>
      aDeletionRequest({ state, participants });
    const waiting = erasing({ crm: aStep('ACCEPTED') });
    const failed = aDeletionRequest({
      state: 'NEEDS_ATTENTION',
      participants: { crm: aStep('FAILED') },
    });
    const answered = erasing({ crm: aStep('DONE'), billing: aStep('PENDING') });
    const service = await queue([waiting, failed, answered]);

    const listed = await service.listDeletionRequests(reader, { linkedService: 'crm' });
    expect(names(listed).sort()).toEqual([waiting.id, failed.id].sort());
    expect(
      await refusal(service.listDeletionRequests(reader, { linkedService: 'Not A Name' })),
    ).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');
  });

  it('narrows a linked service to its waiting or failed steps, and only with a linked service', async () => {
    const waiting = aDeletionRequest({
      state: 'ERASING',
      participants: { crm: aStep('RETRYING') },
    });
    const failed = aDeletionRequest({
      state: 'NEEDS_ATTENTION',
      participants: { crm: aStep('FAILED') },
    });
    const service = await queue([waiting, failed]);
    const listed = async (linkedServiceStep: 'WAITING' | 'FAILED') =>
      names(
        await service.listDeletionRequests(reader, { linkedService: 'crm', linkedServiceStep }),
      );

    expect(await listed('WAITING')).toEqual([waiting.id]);
    expect(await listed('FAILED')).toEqual([failed.id]);
    expect(
      await refusal(service.listDeletionRequests(reader, { linkedServiceStep: 'WAITING' })),
    ).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');
  });

  it('holds the step filter in its page token, and takes a token from before the filter', async () => {
    const requests = Array.from({ length: 3 }, (_, n) =>
      aDeletionRequest({
        state: 'ERASING',
        createdAt: at(n),
        participants: { crm: aStep('PENDING') },
      }),
    );
    const service = await queue(requests);
    const first = { linkedService: 'crm', pageSize: 1 } as const;
    const { nextPageToken } = await service.listDeletionRequests(reader, {
      ...first,
      linkedServiceStep: 'WAITING',
    });
    const next = (input: object) =>
      refusal(
        service.listDeletionRequests(reader, { ...first, pageToken: nextPageToken, ...input }),
      );
    expect(await next({ linkedServiceStep: 'WAITING' })).toBe('OK');
    expect(await next({})).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');
    expect(await next({ linkedServiceStep: 'FAILED' })).toBe('INVALID_ARGUMENT INVALID_ARGUMENT');

    // A token issued before the step filter existed names no step: it pages the unfiltered list.
    const before = { ...tokenFields(nextPageToken), p: undefined };
    const old = btoa(JSON.stringify(before)).replaceAll('=', '');
    const page = await service.listDeletionRequests(reader, { ...first, pageToken: old });
    expect(names(page)).toEqual([requests[1]?.id]);
  });
});

/** What a page token holds. */
const tokenFields = (token: string): Record<string, unknown> =>
  JSON.parse(atob(token.replaceAll('-', '+').replaceAll('_', '/'))) as Record<string, unknown>;
