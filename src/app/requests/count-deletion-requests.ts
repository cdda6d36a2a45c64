import { authorize } from '../../domain/authorization.js';
import { deletionStates, type DeletionState } from '../../domain/deletion-state.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import {
  countDeletionRequestsInput,
  parseInput,
  type CountDeletionRequestsInput,
} from '../inputs.js';

const DAY_MS = 86_400_000;

/** The queue in numbers, under the filters asked for. */
export interface DeletionRequestCounts {
  /** Requests in each state, every state named (zero when none). */
  readonly byState: Readonly<Record<DeletionState, number>>;
  /** Open requests whose legal deadline is before `countedAt`. */
  readonly pastDeadline: number;
  /** Open requests whose legal deadline is from `countedAt` to `dueWithinDays` days after it. */
  readonly dueSoon: number;
  readonly dueWithinDays: number;
  readonly countedAt: Date;
}

/**
 * How many requests there are in each state, and how many open ones are
 * past their legal deadline or due within `dueWithinDays` (default 7), under
 * the queue's filters (jurisdiction, a linked service whose step is not
 * finished or, with `linkedServiceStep`, waiting or failed there, as
 * ListDeletionRequests takes them). Names no subject: not
 * audited. Errors: PERMISSION_DENIED, INVALID_ARGUMENT, UNAVAILABLE.
 */
export const countDeletionRequests =
  (deps: Pick<DeletionDeps, 'requests' | 'clock'>) =>
  async (
    principal: Principal,
    raw?: CountDeletionRequestsInput,
  ): Promise<DeletionRequestCounts> => {
    authorize(principal, 'countDeletionRequests');
    const input = parseInput(countDeletionRequestsInput, raw);
    const now = deps.clock.now();
    const counts = await deps.requests.count({
      jurisdiction: input.jurisdiction,
      linkedService: input.linkedService,
      linkedServiceStep: input.linkedServiceStep,
      now,
      dueBefore: new Date(now.getTime() + input.dueWithinDays * DAY_MS),
    });
    return {
      byState: Object.fromEntries(
        deletionStates.map((state) => [state, counts.byState[state] ?? 0]),
      ) as Record<DeletionState, number>,
      pastDeadline: counts.pastDeadline,
      dueSoon: counts.dueSoon,
      dueWithinDays: input.dueWithinDays,
      countedAt: now,
    };
  };
