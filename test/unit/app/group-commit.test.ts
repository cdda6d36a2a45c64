import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../../src/app/common/group-commit.js';

/** A write that records its groups and waits until released. */
const recordingWrite = () => {
  const groups: number[][] = [];
  const releases: (() => void)[] = [];
  const write = (items: readonly number[]) => {
    groups.push([...items]);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  return { groups, releases, write };
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('groupCommit', () => {
  it('writes what arrived in one tick together, and what arrived meanwhile next, in order', async () => {
    const { groups, releases, write } = recordingWrite();
    const append = groupCommit(write, 10);
    const settled: number[] = [];
    const calls = [1, 2].map((item) => append(item).then(() => settled.push(item)));
    await tick();
    calls.push(...[3, 4].map((item) => append(item).then(() => settled.push(item))));
    expect(groups).toEqual([[1, 2]]);
    releases[0]?.();
    await tick();
    expect(groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(settled).toEqual([1, 2]);
    releases[1]?.();
    await Promise.all(calls);
    expect(settled).toEqual([1, 2, 3, 4]);
  });

  it('writes at most `max` at once', async () => {
    const { groups, releases, write } = recordingWrite();
    const append = groupCommit(write, 2);
    const calls = [1, 2, 3, 4, 5].map((item) => append(item));
    for (let i = 0; i < 3; i += 1) {
      await tick();
      releases[i]?.();
    }
    await Promise.all(calls);
    expect(groups).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the callers whose group failed, and goes on with the next', async () => {
    let writes = 0;
    const append = groupCommit(async () => {
      writes += 1;
      await tick();
      if (writes === 1) throw new Error('database away');
    }, 10);
    const first = append(1);
    await Promise.resolve();
    const later = [append(2), append(3)];
    await expect(first).rejects.toThrow('database away');
    await expect(Promise.all(later)).resolves.toBeDefined();
    expect(writes).toBe(2);
  });
});
