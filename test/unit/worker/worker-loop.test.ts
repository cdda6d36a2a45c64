import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkerPassResult } from '../../../src/app/worker/run-worker-pass.js';
import { startWorkerLoop, type WorkerLoop } from '../../../src/worker/worker-loop.js';

const quiet: WorkerPassResult = {
  expired: 0,
  settled: 0,
  completed: 0,
  notified: 0,
  shredded: 0,
  needsAttention: [],
  held: 0,
  tripped: false,
  more: false,
  failures: [],
};

describe('the worker loop', () => {
  let loop: WorkerLoop | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await loop?.stop();
    vi.useRealTimers();
  });

  /** A loop whose passes answer from `results` in turn (then quietly), counting them. */
  let start = 0;
  const started = (results: readonly Partial<WorkerPassResult>[] = []) => {
    const passes: number[] = [];
    start = Date.now();
    loop = startWorkerLoop(
      () => {
        passes.push(Date.now());
        return Promise.resolve({ ...quiet, ...results[passes.length - 1] });
      },
      { intervalMs: 1000, logger: pino({ level: 'silent' }) },
    );
    return passes;
  };

  it('runs a pass every interval, and sooner when work falls due', async () => {
    const passes = started();
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toHaveLength(1);
    loop?.wakeAt(new Date(Date.now() + 100));
    await vi.advanceTimersByTimeAsync(100);
    expect(passes).toHaveLength(2);
  });

  it('starts the next pass at once when a pass left purges due (its batch was full)', async () => {
    const passes = started([{ more: true }, { more: true }]);
    await vi.advanceTimersByTimeAsync(1010);
    expect(passes).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = passes;
    expect(first - start).toBe(1000);
    expect(third - first).toBeLessThan(5);
    expect(second).toBeGreaterThanOrEqual(first);
    // The third pass left nothing: the loop waits its interval again.
    await vi.advanceTimersByTimeAsync(third + 999 - Date.now());
    expect(passes).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toHaveLength(4);
  });
});
