import { describe, expect, it, vi } from 'vitest';
import type { DeletionDeps } from '../../../src/app/deletion-deps.js';
import {
  watchDeletionRequest,
  type DeletionEvent,
} from '../../../src/app/requests/watch-deletion-request.js';
import type { DeletionRequest, StateChange } from '../../../src/domain/deletion-request.js';
import type { DeletionState } from '../../../src/domain/deletion-state.js';
import type { ParticipantStep } from '../../../src/domain/erasure-steps.js';
import { deletionRequestName } from '../../../src/domain/ids.js';
import type { Principal } from '../../../src/domain/principal.js';
import { aDeletionRequest } from '../../fixtures/deletion-request-builder.js';

const admin: Principal = {
  actor: { kind: 'USER', id: 'admin' },
  scopes: new Set(['deletion:admin']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

const change = (from: DeletionState, to: DeletionState, at: number): StateChange => ({
  from,
  to,
  actor: { kind: 'SYSTEM', id: 'system/test' },
  at: new Date(at),
  note: `${from}_TO_${to}`,
  traceId: '',
  spanId: '',
});

const step = (status: ParticipantStep['status'], at: number): ParticipantStep => ({
  status,
  attempts: 1,
  lastErrorCode: null,
  nextAttemptAt: null,
  expectedBy: null,
  outcome: status === 'DONE' ? { kind: 'NOTHING_FOUND' } : null,
  updatedAt: new Date(at),
});

/** A repository of one request the test changes by hand, counting reads. */
const world = (request: DeletionRequest, maxWatches = 10, maxWatchesPerCaller = 10) => {
  const store = { current: request as DeletionRequest | null, reads: 0 };
  const deps = {
    requests: {
      findById: () => {
        store.reads += 1;
        return Promise.resolve(store.current);
      },
    },
    policy: { maxWatches, maxWatchesPerCaller, watchPollMs: 5 },
  } as unknown as DeletionDeps;
  const watch = watchDeletionRequest(deps);
  const start = (after?: string, controller = new AbortController(), principal = admin) =>
    watch(
      principal,
      { name: deletionRequestName(request.id), ...(after === undefined ? {} : { after }) },
      controller.signal,
    );
  return { store, start };
};

const summary = (event: DeletionEvent): string =>
  event.kind === 'STATE_CHANGED'
    ? `${event.change.to}@${event.cursor}`
    : event.kind === 'PARTICIPANT_CHANGED'
      ? `${event.participant}:${event.step.status}@${event.cursor}`
      : `SNAPSHOT@${event.cursor}`;

const drain = async (events: AsyncIterable<DeletionEvent>): Promise<string[]> => {
  const seen: string[] = [];
  for await (const event of events) seen.push(summary(event));
  return seen;
};

describe('watchDeletionRequest', () => {
  it('keeps the order of the history when the replicas’ clocks disagree', async () => {
    // The worker's clock is behind the API's: ERASING is stamped before SCHEDULED.
    const { store, start } = world(aDeletionRequest());
    const events = await start();
    const iterator = events[Symbol.asyncIterator]();
    expect(summary((await iterator.next()).value as DeletionEvent)).toBe('SNAPSHOT@0');

    store.current = aDeletionRequest({
      ...store.current,
      state: 'COMPLETED',
      version: 5,
      history: [
        change('REQUESTED', 'SCHEDULED', 10_000),
        change('SCHEDULED', 'ERASING', 5_000),
        change('ERASING', 'COMPLETED', 6_000),
      ],
      participants: { crm: step('DONE', 5_500), billing: step('DONE', 5_800) },
    });
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      rest.push(summary(next.value));

    expect(rest).toEqual([
      'SCHEDULED@1',
      'ERASING@2',
      'crm:DONE@2',
      'billing:DONE@2',
      'COMPLETED@3',
    ]);
  });

  it('resumes after a cursor with the state changes since, missing none', async () => {
    const completed = aDeletionRequest({
      state: 'COMPLETED',
      history: [
        change('REQUESTED', 'SCHEDULED', 1_000),
        change('SCHEDULED', 'ERASING', 2_000),
        change('ERASING', 'COMPLETED', 4_000),
      ],
      participants: { crm: step('DONE', 3_000) },
    });
    const { start } = world(completed);

    expect(await drain(await start('1'))).toEqual(['ERASING@2', 'crm:DONE@2', 'COMPLETED@3']);
    expect(await drain(await start('3'))).toEqual(['crm:DONE@3']);
  });

  it('fails NOT_FOUND when the request disappears while watched', async () => {
    const { store, start } = world(aDeletionRequest());
    const events = (await start())[Symbol.asyncIterator]();
    await events.next();
    store.current = null;

    await expect(events.next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stops reading once the watcher is gone', async () => {
    vi.useFakeTimers();
    try {
      const { store, start } = world(aDeletionRequest());
      const controller = new AbortController();
      const events = (await start(undefined, controller))[Symbol.asyncIterator]();
      await events.next();
      const pending = events.next();
      controller.abort();

      expect(await pending).toEqual({ done: true, value: undefined });
      const reads = store.reads;
      // Six poll intervals pass: none reads.
      await vi.advanceTimersByTimeAsync(30);
      expect(store.reads).toBe(reads);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads a request once per poll however many watch it, and tells each watcher', async () => {
    vi.useFakeTimers();
    try {
      await readsOncePerPoll();
    } finally {
      vi.useRealTimers();
    }
  });

  const readsOncePerPoll = async (): Promise<void> => {
    const { store, start } = world(aDeletionRequest(), 50, 50);
    const watchers = await Promise.all(
      Array.from({ length: 20 }, async () => (await start())[Symbol.asyncIterator]()),
    );
    for (const events of watchers) await events.next();
    // Every watcher waits for what comes next, as a stream's consumer does.
    const next = watchers.map((events) => events.next());
    const before = store.reads;
    await vi.advanceTimersByTimeAsync(100);
    // 20 polls of 5 ms in 100 ms: one loop's reads, where a loop per watcher made 400.
    expect(store.reads - before).toBeLessThanOrEqual(21);

    const current = store.current!;
    store.current = {
      ...current,
      state: 'CANCELLED',
      version: current.version + 1,
      history: [...current.history, change('REQUESTED', 'CANCELLED', Date.now())],
    };
    await vi.advanceTimersByTimeAsync(5);
    for (const [index, events] of watchers.entries()) {
      expect((await next[index])?.value).toMatchObject({ kind: 'STATE_CHANGED' });
      expect(await events.next()).toEqual({ done: true, value: undefined });
    }
  };

  it('serves at most maxWatchesPerCaller to one caller; others still watch', async () => {
    const { start } = world(aDeletionRequest(), 10, 2);
    const held = [await start(), await start()];
    expect(held).toHaveLength(2);

    await expect(start()).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      reason: 'TOO_MANY_WATCHES_FOR_CALLER',
    });
    const other: Principal = { ...admin, actor: { kind: 'USER', id: 'admin-2' } };
    await expect(start(undefined, new AbortController(), other)).resolves.toBeDefined();
  });

  it('serves at most maxWatches at once per replica, and frees a slot when one ends', async () => {
    const { store, start } = world(aDeletionRequest(), 1);
    const first = (await start())[Symbol.asyncIterator]();
    await first.next();

    await expect(start()).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      reason: 'TOO_MANY_WATCHES',
    });
    store.current = aDeletionRequest({ ...store.current, state: 'CANCELLED', version: 2 });
    while (!(await first.next()).done);
    await expect(start()).resolves.toBeDefined();
  });
});
