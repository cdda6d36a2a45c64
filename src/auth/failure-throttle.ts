import { DomainError } from '../domain/domain-error.js';

/** How many refused credentials a source may present per window. */
export interface FailureBudget {
  readonly failures: number;
  readonly windowMs: number;
}

/** Sources kept at most; the one seen least recently goes first. */
const MAX_SOURCES = 50_000;

/** RESOURCE_EXHAUSTED (`TOO_MANY_FAILED_AUTHENTICATIONS`): the source's budget of failures is spent. */
export const tooManyFailures = (retryDelayMs: number): DomainError =>
  new DomainError({
    code: 'RESOURCE_EXHAUSTED',
    reason: 'TOO_MANY_FAILED_AUTHENTICATIONS',
    message: 'too many failed authentications from here; retry later',
    retryDelayMs: Math.max(1, Math.ceil(retryDelayMs)),
  });

/**
 * Counts refused credentials per source (a peer address, an API key's
 * prefix) in fixed windows, in this replica's memory: a check costs no
 * database round trip, which is the point, and a caller spraying replicas
 * gets each replica's budget. Bounded: past `MAX_SOURCES` the source seen
 * least recently is forgotten.
 */
export const createFailureThrottle = (budget: FailureBudget, now: () => number = Date.now) => {
  const windows = new Map<string, { count: number; readonly start: number }>();
  const current = (source: string, at: number) => {
    const window = windows.get(source);
    if (window === undefined || at - window.start >= budget.windowMs) {
      windows.delete(source);
      return undefined;
    }
    return window;
  };
  return {
    /** Throws TOO_MANY_FAILED_AUTHENTICATIONS when any of the sources spent its budget. */
    check: (sources: readonly string[]): void => {
      const at = now();
      for (const source of sources) {
        const window = current(source, at);
        if (window !== undefined && window.count >= budget.failures)
          throw tooManyFailures(window.start + budget.windowMs - at);
      }
    },
    /** Counts one refused credential against each source. */
    failed: (sources: readonly string[]): void => {
      const at = now();
      for (const source of sources) {
        const window = current(source, at) ?? { count: 0, start: at };
        window.count += 1;
        windows.delete(source);
        windows.set(source, window); // seen most recently last
        if (windows.size > MAX_SOURCES) {
          const oldest = windows.keys().next();
          if (oldest.done !== true) windows.delete(oldest.value);
        }
      }
    },
  };
};

/** A failure throttle. */
export type FailureThrottle = ReturnType<typeof createFailureThrottle>;

/** The address part of a peer (`1.2.3.4:5678`, `[::1]:5678`, `::ffff:1.2.3.4`). */
export const peerAddress = (peer: string): string => {
  const bracketed = /^\[(.+)\]:\d+$/.exec(peer)?.[1];
  const address = bracketed ?? (/^[^:]+:\d+$/.test(peer) ? peer.replace(/:\d+$/, '') : peer);
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
};
