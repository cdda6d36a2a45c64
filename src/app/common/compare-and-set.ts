/** What one try decides: write `next` over the version it read and answer `result`, or answer as it is. */
export type Decision<T, R> =
  { readonly next: T; readonly result: R } | { readonly next?: undefined; readonly result: R };

/** One compare-and-set loop: where it starts, how it decides, writes and reads again. */
export interface CompareAndSet<T, R> {
  /** The value as the caller knows it: the first try decides on it. */
  readonly start: T;
  /** Tries in all, the first included. */
  readonly tries: number;
  /** Decides on the newest value read; `attempt` is 0 on the first try. */
  readonly decide: (current: T, attempt: number) => Decision<T, R> | Promise<Decision<T, R>>;
  /** Writes `next` when the stored value is still `current`; false when another writer came first. */
  readonly save: (next: T, current: T) => Promise<boolean>;
  /** Reads the value afresh after a lost race; null when it is gone. */
  readonly reread: () => Promise<T | null>;
  /** The answer when the value is gone. */
  readonly gone: () => R | Promise<R>;
  /** The answer (or the error thrown) when every try lost its race; it gets the last value read. */
  readonly exhausted: (last: T) => R | Promise<R>;
  /** How long to pause before try `attempt` (1, 2, …): lets the writer that won finish. */
  readonly pauseMs?: (attempt: number) => number;
}

/** The app layer keeps off Node's modules (dependency rule): a timer promise of its own. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Read → decide → write if unchanged, and on a lost race read again and
 * decide again: the loop behind the app layer's optimistic writes, so each
 * decision is taken on the newest value and no concurrent change is lost.
 */
export const compareAndSet = async <T, R>(loop: CompareAndSet<T, R>): Promise<R> => {
  let current = loop.start;
  for (let attempt = 0; attempt < loop.tries; attempt += 1) {
    if (attempt > 0) {
      const pause = loop.pauseMs?.(attempt) ?? 0;
      if (pause > 0) await sleep(pause);
      const fresh = await loop.reread();
      if (fresh === null) return loop.gone();
      current = fresh;
    }
    const decided = await loop.decide(current, attempt);
    if (decided.next === undefined) return decided.result;
    if (await loop.save(decided.next, current)) return decided.result;
  }
  return loop.exhausted(current);
};
