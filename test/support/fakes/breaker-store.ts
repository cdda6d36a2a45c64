import type { BreakerStore } from '../../../src/app/ports/breaker-store.js';
import { initialBreaker, type BreakerState } from '../../../src/domain/erasure-breaker.js';
import { outageSwitch, type Outage } from './store-away.js';

/** The breaker's record in memory, shared by the replicas a test makes of it. */
export interface FakeBreakerStore extends BreakerStore, Outage {
  /** Another replica of the store: the same record, a cache of its own. */
  replica(): BreakerStore;
}

/**
 * A fake breaker store. Each version is written once: a save wins when the
 * newest stored version is `previous.version` and `next` is one on from it.
 * A replica's cached load answers the newest it read or wrote.
 */
export const fakeBreakerStore = (): FakeBreakerStore => {
  let newest: BreakerState = initialBreaker;
  const outage = outageSwitch();
  const replica = (): BreakerStore => {
    let known: BreakerState | undefined;
    return {
      load: (options) =>
        options?.cached === true && known !== undefined
          ? Promise.resolve(structuredClone(known))
          : outage.guard(() => {
              known = newest;
              return structuredClone(newest);
            }),
      save: (next, previous) =>
        outage.guard(() => {
          if (next.version !== previous.version + 1) return false;
          if (newest.version !== previous.version) {
            known = undefined;
            return false;
          }
          newest = structuredClone(next);
          known = newest;
          return true;
        }),
    };
  };
  return { ...replica(), replica, setDown: outage.setDown };
};
