import type { Logger } from 'pino';
import type { WorkerPassResult } from '../app/worker/run-worker-pass.js';
import { DomainError } from '../domain/domain-error.js';

/** A background loop that runs one pass of work, pauses, and repeats until stopped. */
export interface WorkerLoop {
  /** Runs one pass now (tests and `npm start` use it to avoid waiting). */
  runOnce(): Promise<WorkerPassResult>;
  /** Work falls due at `at`: the next pass starts then if that is sooner than planned (after a running one). */
  wakeAt(at: Date): void;
  /**
   * Plans no more passes and tells the running one to stop (it starts
   * nothing new; its purges record and release): resolves when it ended.
   */
  stop(): Promise<void>;
}

/** Starts the loop. A failed pass is logged and the loop goes on. */
export const startWorkerLoop = (
  pass: (stop: AbortSignal) => Promise<WorkerPassResult>,
  options: { readonly intervalMs: number; readonly logger: Logger },
): WorkerLoop => {
  let stopped = false;
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  /** When the next pass is planned (epoch ms); undefined while one runs. */
  let plannedAt: number | undefined;
  /** The soonest work that fell due while a pass ran (epoch ms). */
  let dueDuringPass: number | undefined;
  let running: Promise<WorkerPassResult> | undefined;
  const runOnce = (): Promise<WorkerPassResult> => {
    running ??= pass(stopping.signal).finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = async (): Promise<void> => {
    let more = false;
    try {
      const result = await runOnce();
      more = result.more;
      for (const id of result.needsAttention) {
        options.logger.error(
          { alert: 'DELETION_NEEDS_ATTENTION', deletionRequest: id },
          'a purge needs an operator',
        );
      }
      if (result.tripped) {
        options.logger.error(
          { alert: 'ERASURES_PAUSED' },
          'mass-deletion breaker tripped: no erasure starts until an administrator resumes',
        );
      }
      if (result.held > 0)
        options.logger.warn({ held: result.held }, 'erasures paused: due purges held back');
      if (result.failures.length > 0)
        options.logger.warn({ failures: result.failures }, 'worker pass had failures');
      if (result.completed + result.expired + result.settled > 0) {
        const { expired, settled, completed } = result;
        options.logger.info({ expired, settled, completed }, 'worker pass');
      }
    } catch (error) {
      const failure = DomainError.from(error);
      options.logger.error({ code: failure.code, reason: failure.reason }, 'worker pass failed');
    }
    const due = more ? Date.now() : dueDuringPass;
    dueDuringPass = undefined;
    plan(due === undefined ? options.intervalMs : due - Date.now());
  };
  const plan = (delayMs: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    const delay = Math.max(0, Math.min(delayMs, options.intervalMs));
    plannedAt = Date.now() + delay;
    timer = setTimeout(() => {
      plannedAt = undefined;
      void tick();
    }, delay);
  };
  plan(options.intervalMs);
  return {
    runOnce,
    wakeAt: (at) => {
      const due = at.getTime();
      if (plannedAt === undefined) dueDuringPass = Math.min(dueDuringPass ?? due, due);
      else if (due < plannedAt) plan(due - Date.now());
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
};
