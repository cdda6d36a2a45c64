import { DomainError } from '../../../src/domain/domain-error.js';

/** What a store's adapter throws when its database is away: UNAVAILABLE `DATABASE_UNAVAILABLE`. */
export const storeAway = (): DomainError =>
  new DomainError({
    code: 'UNAVAILABLE',
    reason: 'DATABASE_UNAVAILABLE',
    message: 'the database is unavailable',
  });

/** A switch a fake store checks on every call: while down, the call rejects like a database away. */
export interface Outage {
  /** Takes the store down (true) or brings it back (false). */
  readonly setDown: (down: boolean) => void;
}

/** An outage switch and the guard that runs a call only while the store is up. */
export const outageSwitch = (): Outage & {
  readonly guard: <T>(call: () => T | Promise<T>) => Promise<T>;
} => {
  let down = false;
  return {
    setDown: (value) => {
      down = value;
    },
    guard: async (call) => {
      if (down) throw storeAway();
      return call();
    },
  };
};
