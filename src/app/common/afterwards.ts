/**
 * Work a call leaves to finish after it has answered (sending the notices
 * its change claimed, recording that its account side effects are done).
 * Such work is always recoverable: until it is recorded, the request says
 * what is still owed and the worker does it later. Tracked, so a replica
 * shutting down finishes it first.
 */
export interface Afterwards {
  /** Starts `task` without waiting for it; a failure goes to the reporter, never to the caller. */
  run(task: () => Promise<unknown>): void;
  /** Settles once every task started so far has. */
  settled(): Promise<void>;
}

/** Afterwards that report a failed task to `onFailure`. */
export const createAfterwards = (onFailure: (error: unknown) => void): Afterwards => {
  const running = new Set<Promise<void>>();
  return {
    run: (task) => {
      const done: Promise<void> = Promise.resolve()
        .then(task)
        .then(
          () => undefined,
          (error: unknown) => onFailure(error),
        )
        .finally(() => running.delete(done));
      running.add(done);
    },
    settled: async () => {
      while (running.size > 0) await Promise.all(running);
    },
  };
};
