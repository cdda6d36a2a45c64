import type { Afterwards } from '../../src/app/afterwards.js';

/**
 * Afterwards that hold what calls leave to finish until `settled()` runs it
 * (the test app does before each worker pass), in the order it was left, so
 * a test sees the same sequence every run. A failure is kept for the test.
 */
export const heldAfterwards = (): Afterwards & {
  readonly failures: unknown[];
  /** Forgets what is held (the test is over). */
  drop(): void;
} => {
  const held: (() => Promise<unknown>)[] = [];
  const failures: unknown[] = [];
  return {
    failures,
    drop: () => {
      held.length = 0;
    },
    run: (task) => {
      held.push(task);
    },
    settled: async () => {
      for (let task = held.shift(); task !== undefined; task = held.shift()) {
        await Promise.resolve()
          .then(task)
          .catch((error: unknown) => failures.push(error));
      }
    },
  };
};
