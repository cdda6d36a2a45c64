import type { WorkSchedule } from '../../../src/app/ports/work-schedule.js';

/** A schedule that remembers when work fell due, for a test to run the worker itself. */
export interface FakeWorkSchedule extends WorkSchedule {
  /** Every `dueAt` so far, in call order. */
  readonly due: readonly Date[];
  /** The soonest time work falls due, or null when none did. */
  soonest(): Date | null;
}

/** A fake work schedule (no worker runs). */
export const fakeWorkSchedule = (): FakeWorkSchedule => {
  const due: Date[] = [];
  return {
    due,
    dueAt: (at) => {
      due.push(new Date(at.getTime()));
    },
    soonest: () =>
      due.reduce<Date | null>(
        (soonest, at) => (soonest === null || at < soonest ? at : soonest),
        null,
      ),
  };
};
