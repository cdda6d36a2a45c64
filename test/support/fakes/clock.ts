import type { Clock, IdGenerator } from '../../../src/app/ports/clock.js';
import type { DeletionRequestId } from '../../../src/domain/ids.js';

/** Where a fake clock starts unless told otherwise. */
export const FAKE_START = new Date('2026-03-10T09:30:00.000Z');

/** A clock a test sets and moves; it never moves on its own. */
export interface FakeClock extends Clock {
  /** Moves the time on by `ms`. */
  advance(ms: number): void;
  /** Sets the time. */
  set(at: Date): void;
}

/** A fake clock at `start`. */
export const fakeClock = (start: Date = FAKE_START): FakeClock => {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (ms) => {
      current += ms;
    },
    set: (at) => {
      current = at.getTime();
    },
  };
};

/** Ids that count up (`request-1`, `event-1`), never twice from one generator: readable in failures. */
export interface FakeIds extends IdGenerator {
  /** The request ids handed out so far, oldest first. */
  readonly requestIds: readonly DeletionRequestId[];
}

/** A fake id generator; `prefix` tells generators apart when several share a store. */
export const fakeIds = (prefix = ''): FakeIds => {
  const requestIds: DeletionRequestId[] = [];
  let events = 0;
  return {
    requestIds,
    newDeletionRequestId: () => {
      const id = `${prefix}request-${String(requestIds.length + 1)}` as DeletionRequestId;
      requestIds.push(id);
      return id;
    },
    newEventId: () => {
      events += 1;
      return `${prefix}event-${String(events)}`;
    },
  };
};
