/**
 * Runs `work` over `items` with at most `limit` at once; resolves when all
 * are done, or, once `stop` says so, when those started are (the rest are
 * left alone).
 */
export const bounded = async <T>(
  items: readonly T[],
  limit: number | { readonly limit: number; readonly stop: () => boolean },
  work: (item: T) => Promise<void>,
): Promise<void> => {
  const { limit: most, stop } = typeof limit === 'number' ? { limit, stop: () => false } : limit;
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(most, items.length) }, runner));
};
