import { describe, expect, it, vi } from 'vitest';
import { createAfterwards } from '../../../src/app/common/afterwards.js';

describe('afterwards', () => {
  it('runs tasks without the caller waiting, and settles once all of them, later ones included, have', async () => {
    const onFailure = vi.fn();
    const afterwards = createAfterwards(onFailure);
    const done: string[] = [];
    let release: (() => void) | undefined;
    afterwards.run(
      () =>
        new Promise<void>((resolve) => {
          release = () => {
            done.push('first');
            // Started by a task: settled() waits for it too.
            afterwards.run(() => {
              done.push('second');
              return Promise.resolve();
            });
            resolve();
          };
        }),
    );
    let settled = false;
    const waiting = afterwards.settled().then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    release?.();
    await waiting;
    expect(done).toEqual(['first', 'second']);
    expect(onFailure).not.toHaveBeenCalled();
  });

  it('reports a failed task and never throws to the caller', async () => {
    const onFailure = vi.fn();
    const afterwards = createAfterwards(onFailure);
    afterwards.run(() => Promise.reject(new Error('down')));
    afterwards.run(() => {
      throw new Error('at once');
    });
    await afterwards.settled();
    expect(onFailure).toHaveBeenCalledTimes(2);
  });
});
