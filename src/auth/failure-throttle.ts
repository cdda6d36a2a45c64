import { isIP } from 'node:net';
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
 * Counts refused credentials per source (a peer address, an API key) in
 * fixed windows, in this replica's memory: a check costs no
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
  const count = (sources: readonly string[], by: number): void => {
    const at = now();
    for (const source of sources) {
      const window = current(source, at) ?? { count: 0, start: at };
      window.count = Math.max(0, window.count + by);
      windows.delete(source);
      windows.set(source, window); // seen most recently last
      if (windows.size > MAX_SOURCES) {
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
    }
  };
  return {
    /**
     * Throws TOO_MANY_FAILED_AUTHENTICATIONS when any of the sources spent
     * its budget. A source that failed in this window has the attempt counted
     * against it at once, as if it failed, so its concurrent attempts cannot
     * all pass the check; a clean source is not, so a burst of good callers
     * behind one address is never held back. Returns the attempt, to settle.
     */
    attempt: (sources: readonly string[]) => {
      const at = now();
      const reserved: string[] = [];
      for (const source of sources) {
        const window = current(source, at);
        if (window !== undefined && window.count >= budget.failures)
          throw tooManyFailures(window.start + budget.windowMs - at);
        if (window !== undefined) reserved.push(source);
      }
      count(reserved, 1);
      return {
        /** The credentials were refused: counts against every source (once). */
        failed: () =>
          count(
            sources.filter((source) => !reserved.includes(source)),
            1,
          ),
        /** Accepted, or not judged (a key store down): nothing counts. */
        passed: () => count(reserved, -1),
      };
    },
  };
};

/** A failure throttle. */
export type FailureThrottle = ReturnType<typeof createFailureThrottle>;

/**
 * An address as the throttle counts it: brackets dropped, IPv4-mapped IPv6
 * folded to IPv4, and a port dropped where one is unambiguous
 * (`1.2.3.4:5678`, `[::1]:5678`).
 */
export const peerAddress = (peer: string): string => {
  const bracketed = /^\[(.+)\]:\d+$/.exec(peer)?.[1] ?? /^\[(.+)\]$/.exec(peer)?.[1];
  const ipv4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(peer)?.[1];
  const address = bracketed ?? ipv4WithPort ?? peer;
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
};

/**
 * The address of a gRPC call's peer. grpc-js gives `address:port` with an
 * IPv6 address unbracketed (`2001:db8::7:5000`), so the port is what follows
 * the last colon; `unknown` and a bare address (no port) pass as they are.
 */
export const grpcPeerAddress = (peer: string): string => {
  const withPort = /^(.+):(\d+)$/.exec(peer);
  if (withPort === null || isIP(peer) === 4) return peerAddress(peer);
  const address = withPort[1] ?? peer;
  return isIP(address) === 0 && isIP(peer) !== 0 ? peerAddress(peer) : peerAddress(address);
};
