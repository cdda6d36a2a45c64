import type { Logger } from 'pino';
import { DomainError } from '../domain/domain-error.js';

/** A timer that deletes expired rate-limit entries until stopped. */
export interface RateLimitSweeper {
  stop(): Promise<void>;
}

/**
 * Sweeps every `intervalMs` (FerretDB has no TTL index, so nothing else
 * deletes them). A failed sweep is logged by code and tried again next time.
 */
export const startRateLimitSweeper = (
  sweep: () => Promise<number>,
  options: { readonly intervalMs: number; readonly logger: Logger },
): RateLimitSweeper => {
  let stopped = false;
  let running: Promise<void> | undefined;
  const tick = (): void => {
    running = sweep().then(
      () => undefined,
      (error: unknown) => {
        const failure = DomainError.from(error);
        options.logger.warn(
          { code: failure.code, reason: failure.reason },
          'rate-limit sweep failed',
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
