import { authorize } from '../../domain/authorization.js';
import type { DeletionRequest, StateChange } from '../../domain/deletion-request.js';
import { isTerminal } from '../../domain/deletion-state.js';
import type { ParticipantStep } from '../../domain/erasure-steps.js';
import type { Principal } from '../../domain/principal.js';
import { DomainError, deletionRequestNotFound } from '../../domain/domain-error.js';
import type { DeletionDeps } from '../deletion-deps.js';
import {
  parseInput,
  watchDeletionRequestInput,
  type WatchDeletionRequestInput,
} from '../inputs.js';
import { loadRequest } from './load-request.js';

/**
 * One thing that happened to a watched request. Every event carries the
 * request as it is now and a `cursor` to resume from after a reconnect.
 */
export type DeletionEvent =
  | { readonly kind: 'SNAPSHOT'; readonly request: DeletionRequest; readonly cursor: string }
  | {
      readonly kind: 'STATE_CHANGED';
      readonly change: StateChange;
      readonly request: DeletionRequest;
      readonly cursor: string;
    }
  | {
      readonly kind: 'PARTICIPANT_CHANGED';
      readonly participant: string;
      readonly step: ParticipantStep;
      readonly request: DeletionRequest;
      readonly cursor: string;
    };

/** How a watch runs: it stops when `signal` aborts, or when the request reaches a final state. */
export interface WatchOptions {
  readonly signal: AbortSignal;
  /** Pause between two reads of the request. */
  readonly pollMs: number;
}

/** The cursor is the number of state changes seen, so a resumed watch misses none. */
const cursorOf = (request: DeletionRequest): string => String(request.history.length);

const seenChanges = (cursor: string | undefined, request: DeletionRequest): number => {
  const seen = Number(cursor);
  return Number.isInteger(seen) && seen >= 0 ? Math.min(seen, request.history.length) : 0;
};

const stepChanged = (before: ParticipantStep | undefined, after: ParticipantStep): boolean => {
  if (before === undefined) return true;
  return (
    before.status !== after.status ||
    before.attempts !== after.attempts ||
    before.updatedAt.getTime() !== after.updatedAt.getTime()
  );
};

/**
 * What changed from `before` to `after`: the new state changes in the order of
 * the history (never by their times, which come from the clocks of different
 * replicas), and between them each participant's new progress, placed by its
 * time. Each event's cursor is the number of state changes up to it.
 */
const changesBetween = (
  before: DeletionRequest,
  after: DeletionRequest,
  fromChange: number,
): DeletionEvent[] => {
  const steps = Object.entries(after.participants)
    .filter(([participant, step]) => stepChanged(before.participants[participant], step))
    .sort(([, a], [, b]) => a.updatedAt.getTime() - b.updatedAt.getTime());
  const events: DeletionEvent[] = [];
  const stepsUntil = (at: number | undefined, cursor: number): void => {
    while (
      steps.length > 0 &&
      (at === undefined || (steps[0]?.[1].updatedAt.getTime() ?? 0) < at)
    ) {
      const [participant, step] = steps.shift() ?? [];
      if (participant !== undefined && step !== undefined)
        events.push({
          kind: 'PARTICIPANT_CHANGED',
          participant,
          step,
          request: after,
          cursor: String(cursor),
        });
    }
  };
  // A change happened no later than any change after it: with clocks that disagree, that
  // bound (the least time from here on) places participants better than the change's own.
  const bounds = after.history.map((change) => change.at.getTime());
  for (let index = bounds.length - 2; index >= 0; index -= 1)
    bounds[index] = Math.min(bounds[index] ?? 0, bounds[index + 1] ?? 0);
  after.history.forEach((change, index) => {
    if (index < fromChange) return;
    stepsUntil(bounds[index], index);
    events.push({ kind: 'STATE_CHANGED', change, request: after, cursor: String(index + 1) });
  });
  stepsUntil(undefined, after.history.length);
  return events;
};

/** How many watches this replica serves now, in all and per caller. */
interface WatchSlots {
  active: number;
  readonly byCaller: Map<string, number>;
}

/**
 * One read loop per watched request, shared by all its watchers on this
 * replica: it reads the request every `pollMs` while anyone watches, and
 * wakes the watchers when a new version came (or the request went away), so
 * the database's load does not grow with the number of watchers.
 */
interface Feed {
  latest: DeletionRequest;
  missing: boolean;
  watchers: number;
  readonly waiting: Set<() => void>;
}

const createFeeds = (deps: Pick<DeletionDeps, 'requests'>) => {
  const feeds = new Map<DeletionRequest['id'], Feed>();
  const wake = (feed: Feed) => {
    for (const resolve of [...feed.waiting]) resolve();
    feed.waiting.clear();
  };
  /** Reads until nobody watches, or the request ended or went away; wakes the watchers on news. */
  const run = async (id: DeletionRequest['id'], feed: Feed, pollMs: number): Promise<void> => {
    while (feed.watchers > 0 && !feed.missing && !isTerminal(feed.latest.state)) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      if (feed.watchers === 0) break;
      // A failed read is tried again at the next poll; the watchers wait on.
      const now = await deps.requests.findById(id).catch(() => feed.latest);
      if (now === null) feed.missing = true;
      else if (now.version > feed.latest.version) feed.latest = now;
      else continue;
      wake(feed);
    }
    feeds.delete(id);
  };
  return {
    /** Joins (or starts, reading every `pollMs`) the request's feed; `leave` when done. */
    join: (first: DeletionRequest, pollMs: number) => {
      const known = feeds.get(first.id);
      const feed = known ?? { latest: first, missing: false, watchers: 0, waiting: new Set() };
      feed.watchers += 1;
      if (known === undefined) {
        feeds.set(first.id, feed);
        void run(first.id, feed, pollMs);
      } else if (first.version > feed.latest.version) feed.latest = first;
      return {
        /** The request once its version is past `version` (or it went away), or null when aborted. */
        after: async (version: number, signal: AbortSignal): Promise<DeletionRequest | null> => {
          while (feed.latest.version <= version && !feed.missing) {
            if (signal.aborted) return null;
            await new Promise<void>((resolve) => {
              const done = () => {
                signal.removeEventListener('abort', done);
                feed.waiting.delete(done);
                resolve();
              };
              feed.waiting.add(done);
              signal.addEventListener('abort', done, { once: true });
            });
          }
          if (feed.missing) throw deletionRequestNotFound(first.id);
          return feed.latest;
        },
        leave: () => {
          feed.watchers -= 1;
        },
      };
    },
  };
};

async function* follow(
  start: { readonly first: DeletionRequest; readonly after: string | undefined },
  feed: ReturnType<ReturnType<typeof createFeeds>['join']>,
  options: WatchOptions & { readonly release: () => void },
): AsyncGenerator<DeletionEvent> {
  const { first, after } = start;
  try {
    let last = first;
    if (after === undefined) yield { kind: 'SNAPSHOT', request: first, cursor: cursorOf(first) };
    else {
      const resumedFrom = { ...first, participants: {} };
      yield* changesBetween(resumedFrom, first, seenChanges(after, first));
    }
    for (;;) {
      if (isTerminal(last.state)) return;
      const now = await feed.after(last.version, options.signal);
      if (now === null || options.signal.aborted) return;
      yield* changesBetween(last, now, last.history.length);
      last = now;
    }
  } finally {
    feed.leave();
    options.release();
  }
}

/**
 * Follows one request as it changes (authorized as a read of it). Resolves once
 * the caller may watch (PERMISSION_DENIED and NOT_FOUND as for a read;
 * RESOURCE_EXHAUSTED `TOO_MANY_WATCHES` when this replica already serves
 * `maxWatches`, `TOO_MANY_WATCHES_FOR_CALLER` when this caller already has
 * `maxWatchesPerCaller` open here), to the events: a SNAPSHOT first, or,
 * resuming after `after`, the state changes since and every participant's
 * progress; then every state change in order and each participant's new
 * progress. Ends when the request reaches a final state. All watches of one
 * request share one read of it per poll.
 */
export const watchDeletionRequest = (deps: Pick<DeletionDeps, 'policy' | 'requests'>) => {
  const slots: WatchSlots = { active: 0, byCaller: new Map() };
  const feeds = createFeeds(deps);
  const exhausted = (reason: string, message: string, limit: number) =>
    new DomainError({
      code: 'RESOURCE_EXHAUSTED',
      reason,
      message,
      metadata: { limit: String(limit) },
    });
  return async (
    principal: Principal,
    raw: WatchDeletionRequestInput,
    signal: AbortSignal,
  ): Promise<AsyncIterable<DeletionEvent>> => {
    const reach = authorize(principal, 'watchDeletionRequest');
    const input = parseInput(watchDeletionRequestInput, raw);
    const first = await loadRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'watchDeletionRequest',
    });
    const { maxWatches, maxWatchesPerCaller } = deps.policy;
    if (slots.active >= maxWatches)
      throw exhausted(
        'TOO_MANY_WATCHES',
        'this replica follows as many requests as it may; retry later',
        maxWatches,
      );
    const caller = `${principal.actor.kind}:${principal.actor.id}`;
    const held = slots.byCaller.get(caller) ?? 0;
    if (held >= maxWatchesPerCaller)
      throw exhausted(
        'TOO_MANY_WATCHES_FOR_CALLER',
        'this caller follows as many requests as it may at once; close one first',
        maxWatchesPerCaller,
      );
    slots.active += 1;
    slots.byCaller.set(caller, held + 1);
    const release = () => {
      slots.active -= 1;
      const left = (slots.byCaller.get(caller) ?? 1) - 1;
      if (left > 0) slots.byCaller.set(caller, left);
      else slots.byCaller.delete(caller);
    };
    const pollMs = deps.policy.watchPollMs;
    const feed = feeds.join(first, pollMs);
    return follow({ first, after: input.after }, feed, { signal, pollMs, release });
  };
};
