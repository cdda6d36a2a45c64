import { afterEach } from 'vitest';

/**
 * What a test started and must stop, in reverse order, after each test of
 * the file (whether it passed or not): call the returned function with each.
 */
export const cleanupsAfterEach = (): ((cleanup: () => unknown) => void) => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
};
