import { authorize } from '../../domain/authorization.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { noInput, parseInput } from '../inputs.js';
import type { RecentCalls } from '../ports/participants.js';

/** How one linked service is doing. */
export interface LinkedServiceHealth {
  readonly name: string;
  /** Open requests whose Erase step there waits for its answer (PENDING, RETRYING, ACCEPTED). */
  readonly waiting: number;
  /** NEEDS_ATTENTION requests whose step there FAILED. */
  readonly needingAttention: number;
  /** The calls this replica made to it lately (not the other replicas'). */
  readonly recentCalls: RecentCalls;
}

/** Every registered linked service's health, in registration order. */
export interface LinkedServicesHealth {
  readonly linkedServices: readonly LinkedServiceHealth[];
  readonly readAt: Date;
}

/**
 * How the linked services are doing, for SREs: per registered service, the
 * requests waiting on it and those that need attention because of it (from
 * the database, two counts per service), and the calls this replica made to
 * it in its recent window (calls, failures, latency p50/p95; in memory, per
 * replica). Names no subject: not audited. Errors: PERMISSION_DENIED,
 * INVALID_ARGUMENT, UNAVAILABLE.
 */
export const getLinkedServiceHealth =
  (deps: Pick<DeletionDeps, 'participants' | 'requests' | 'clock'>) =>
  async (principal: Principal, raw?: Record<string, never>): Promise<LinkedServicesHealth> => {
    authorize(principal, 'getLinkedServiceHealth');
    parseInput(noInput, raw);
    const names = deps.participants.specs.map((spec) => spec.name);
    const loads = names.length === 0 ? {} : await deps.requests.countByLinkedService(names);
    return {
      linkedServices: names.map((name) => ({
        name,
        waiting: loads[name]?.waiting ?? 0,
        needingAttention: loads[name]?.needingAttention ?? 0,
        recentCalls: deps.participants.recentCalls(name),
      })),
      readAt: deps.clock.now(),
    };
  };
