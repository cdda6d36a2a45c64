import type { BreakerState } from '../../domain/erasure-breaker.js';

/** The mass-deletion breaker's state, one record shared by every replica. */
export interface BreakerStore {
  /**
   * The newest state. `cached`: the newest this replica has seen (it read or
   * wrote it), without asking the database: possibly stale, which a `save`
   * on top of it finds out. Decide nothing on a cached state without saving.
   */
  load(options?: { readonly cached?: boolean }): Promise<BreakerState>;
  /** Writes `next` when the stored version is still `previous.version`; false when another writer came first. */
  save(next: BreakerState, previous: BreakerState): Promise<boolean>;
}
