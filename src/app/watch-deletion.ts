import { authorize } from '../domain/authorization.js';
import type { DeletionRequest, StateChange } from '../domain/deletion-request.js';
import { isTerminal } from '../domain/deletion-state.js';
import type { ParticipantStep } from '../domain/erasure-steps.js';
import type { Principal } from '../domain/principal.js';
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
 * What changed from `before` to `after`, in the order it happened: new state
 * changes and participants' new progress, by time (a state change first when
 * both happened at once). Each event's cursor counts the state changes up to it.
 */
const changesBetween = (
  before: DeletionRequest,
  after: DeletionRequest,
  fromChange: number,
): DeletionEvent[] => {
  type Pending = { readonly at: number; readonly order: number } & (
    | { readonly kind: 'STATE_CHANGED'; readonly change: StateChange }
    | {
        readonly kind: 'PARTICIPANT_CHANGED';
        readonly participant: string;
        readonly step: ParticipantStep;
      }
  );
  const pending: Pending[] = [
    ...after.history.slice(fromChange).map((change) => ({
      kind: 'STATE_CHANGED' as const,
      change,
      at: change.at.getTime(),
      order: 0,
    })),
    ...Object.entries(after.participants)
      .filter(([participant, step]) => stepChanged(before.participants[participant], step))
      .map(([participant, step]) => ({
        kind: 'PARTICIPANT_CHANGED' as const,
        participant,
        step,
        at: step.updatedAt.getTime(),
        order: 1,
      })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  let seen = fromChange;
  return pending.map((event): DeletionEvent => {
    if (event.kind === 'STATE_CHANGED') {
      seen += 1;
      return { kind: 'STATE_CHANGED', change: event.change, request: after, cursor: String(seen) };
    }
    const { participant, step } = event;
    return { kind: 'PARTICIPANT_CHANGED', participant, step, request: after, cursor: String(seen) };
  });
};

async function* follow(
  deps: DeletionDeps,
  start: { readonly first: DeletionRequest; readonly after: string | undefined },
  options: WatchOptions,
): AsyncGenerator<DeletionEvent> {
  const { first, after } = start;
  let last = first;
  if (after === undefined) yield { kind: 'SNAPSHOT', request: first, cursor: cursorOf(first) };
  else {
    const resumedFrom = { ...first, participants: {} };
    yield* changesBetween(resumedFrom, first, seenChanges(after, first));
  }
  while (!isTerminal(last.state) && !options.signal.aborted) {
    await pause(options.pollMs, options.signal);
    const now = await deps.requests.findById(first.id);
    if (now === null) return;
    if (now.version !== last.version) yield* changesBetween(last, now, last.history.length);
    last = now;
  }
}

/**
 * Follows one request as it changes (authorized as a read of it). Resolves once
 * the caller may watch (PERMISSION_DENIED and NOT_FOUND as for a read), to the
 * events: a SNAPSHOT first, or, resuming after `after`, the state changes since;
 * then every state change in order and every participant's new progress. Ends
 * when the request reaches a final state.
 */
export const watchDeletionRequest =
  (deps: DeletionDeps) =>
  async (
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
    return follow(deps, { first, after: input.after }, options);
  };
