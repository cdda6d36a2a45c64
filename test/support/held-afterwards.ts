import type { Afterwards } from '../../src/app/common/afterwards.js';

/**
 * Afterwards that hold what calls leave to finish until `settled()` runs it
 * (the test app does before each worker pass), in the order it was left, so
 * a test sees the same sequence every run. A task that fails is dropped, as
 * in production: what it would have done stays owed on its request.
 */
export const heldAfterwards = (): Afterwards & {
  /** Forgets what is held (the test is over). */
  drop(): void;
} => {
  const held: (() => Promise<unknown>)[] = [];
  return {
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
          .catch(() => undefined);
      }
    },
  };
};
