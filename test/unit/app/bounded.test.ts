import { describe, expect, it } from 'vitest';
import { bounded } from '../../../src/app/common/bounded.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('bounded', () => {
  it('runs at most `limit` at once and every item once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await bounded([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      done.push(item);
      running -= 1;
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
