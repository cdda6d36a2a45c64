import { authorize } from '../domain/authorization.js';
import type { DeletionRequest, StateChange } from '../domain/deletion-request.js';
import { isTerminal } from '../domain/deletion-state.js';
import type { ParticipantStep } from '../domain/erasure-steps.js';
import type { Principal } from '../domain/principal.js';
import { DomainError, deletionRequestNotFound } from '../domain/domain-error.js';
import type { DeletionDeps } from './deletion-deps.js';
import { parseInput, watchDeletionRequestInput, type WatchDeletionRequestInput } from './inputs.js';
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

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

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

/** How many watches this replica serves now. */
interface WatchSlots {
  active: number;
}

async function* follow(
  deps: DeletionDeps,
  start: { readonly first: DeletionRequest; readonly after: string | undefined },
  options: WatchOptions & { readonly slots: WatchSlots },
): AsyncGenerator<DeletionEvent> {
  const { first, after } = start;
  options.slots.active += 1;
  try {
    let last = first;
    if (after === undefined) yield { kind: 'SNAPSHOT', request: first, cursor: cursorOf(first) };
    else {
      const resumedFrom = { ...first, participants: {} };
      yield* changesBetween(resumedFrom, first, seenChanges(after, first));
    }
    for (;;) {
      if (isTerminal(last.state)) return;
      await pause(options.pollMs, options.signal);
      if (options.signal.aborted) return;
      const now = await deps.requests.findById(first.id);
      if (now === null) throw deletionRequestNotFound(first.id);
      if (now.version !== last.version) yield* changesBetween(last, now, last.history.length);
      last = now;
    }
  } finally {
    options.slots.active -= 1;
  }
}

/**
 * Follows one request as it changes (authorized as a read of it). Resolves once
 * the caller may watch (PERMISSION_DENIED and NOT_FOUND as for a read;
 * RESOURCE_EXHAUSTED when this replica already serves `maxWatches`), to the
 * events: a SNAPSHOT first, or, resuming after `after`, the state changes since
 * and every participant's progress; then every state change in order and each
 * participant's new progress. Ends when the request reaches a final state.
 */
export const watchDeletionRequest = (deps: DeletionDeps) => {
  const slots: WatchSlots = { active: 0 };
  return async (
    principal: Principal,
    raw: WatchDeletionRequestInput,
    options: WatchOptions,
  ): Promise<AsyncIterable<DeletionEvent>> => {
    const reach = authorize(principal, 'watchDeletionRequest');
    const input = parseInput(watchDeletionRequestInput, raw);
    const first = await loadRequest(deps.requests, {
      id: input.name,
      reach,
      operation: 'watchDeletionRequest',
    });
    if (slots.active >= deps.policy.maxWatches)
      throw new DomainError({
        code: 'RESOURCE_EXHAUSTED',
        reason: 'TOO_MANY_WATCHES',
        message: 'this replica follows as many requests as it may; retry later',
        metadata: { maxWatches: String(deps.policy.maxWatches) },
      });
    return follow(deps, { first, after: input.after }, { ...options, slots });
  };
};
