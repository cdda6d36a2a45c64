import type { Logger } from 'pino';
import { DomainError } from '../domain/domain-error.js';

/** A timer that runs one piece of housekeeping until stopped. */
export interface PeriodicTask {
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs` (the first time after one interval), never
 * two at once. A failed run is logged by code and tried again next time.
 * For what no database feature does for us: FerretDB has no TTL index.
 */
export const startPeriodicTask = (
  name: string,
  task: () => Promise<unknown>,
  options: { readonly intervalMs: number; readonly logger: Logger },
): PeriodicTask => {
  let stopped = false;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = task().then(
      () => undefined,
      (error: unknown) => {
        const failure = DomainError.from(error);
        options.logger.warn(
          { task: name, code: failure.code, reason: failure.reason },
          'housekeeping failed',
        );
      },
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  let timer = setTimeout(tick, options.intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};
