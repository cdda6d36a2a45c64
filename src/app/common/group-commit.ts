/**
 * Group commit: `write` takes what arrived in the same tick, or while the
 * previous call of it was running, in arrival order, at most `max` at once. Each caller's promise
 * settles with the write that carried its item. For writers of one shared
 * record in one process, which one at a time would wait in line and racing
 * each other would only lose turns.
 */
export const groupCommit = <T>(
  write: (items: readonly T[]) => Promise<void>,
  max: number,
): ((item: T) => Promise<void>) => {
  let queue: { item: T; done: () => void; fail: (error: unknown) => void }[] = [];
  let writing = false;
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const group = queue.slice(0, max);
      queue = queue.slice(max);
      await write(group.map((queued) => queued.item)).then(
        () => group.forEach((queued) => queued.done()),
        (error: unknown) => group.forEach((queued) => queued.fail(error)),
      );
    }
    writing = false;
  };
  return (item) =>
    new Promise((done, fail) => {
      queue.push({ item, done, fail });
      if (writing) return;
      writing = true;
      // After the current tick: what it adds goes in the same group.
      queueMicrotask(() => void drain());
    });
};
