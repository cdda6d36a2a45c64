import { openStates, type DeletionState } from './deletion-state.js';
import { unfinishedStatuses, waitingStatuses, type StepStatus } from './erasure-steps.js';

/** The kinds of Erase step at a linked service the queue's filters name. */
export const linkedServiceSteps = ['WAITING', 'FAILED'] as const;
/** WAITING: the service has not answered yet; FAILED: the step failed there. */
export type LinkedServiceStep = (typeof linkedServiceSteps)[number];

/** Which requests a step filter takes: the step's status, and the request's state (undefined: any). */
export interface StepSelection {
  readonly statuses: readonly StepStatus[];
  readonly states: readonly DeletionState[] | undefined;
}

const selections: Readonly<Record<LinkedServiceStep | 'UNFINISHED', StepSelection>> = {
  WAITING: { statuses: waitingStatuses, states: openStates },
  FAILED: { statuses: ['FAILED'], states: undefined },
  UNFINISHED: { statuses: unfinishedStatuses, states: undefined },
};

/**
 * The one definition of a step filter, shared by the queue's list and counts
 * and by the linked services' health: WAITING is an open request whose step
 * waits for the service (PENDING, RETRYING, ACCEPTED), FAILED a step that
 * failed there (NEEDS_ATTENTION narrows it to the requests needing
 * attention); unset, a step not finished (either), in any state.
 */
export const stepSelection = (step: LinkedServiceStep | undefined): StepSelection =>
  selections[step ?? 'UNFINISHED'];

/** The states both lists allow (undefined: any state). */
export const bothStates = (
  a: readonly DeletionState[] | undefined,
  b: readonly DeletionState[] | undefined,
): readonly DeletionState[] | undefined =>
  a === undefined ? b : b === undefined ? a : a.filter((state) => b.includes(state));
