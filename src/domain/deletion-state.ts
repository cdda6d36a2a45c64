/** The lifecycle states of a deletion request (docs/design.md §2). */
export const deletionStates = [
  'REQUESTED',
  'AWAITING_APPROVAL',
  'SCHEDULED',
  'RESTORED',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
  'ERASING',
  'COMPLETED',
  'NEEDS_ATTENTION',
] as const;

/** A lifecycle state. */
export type DeletionState = (typeof deletionStates)[number];

const allowed: Readonly<Record<DeletionState, readonly DeletionState[]>> = {
  REQUESTED: ['AWAITING_APPROVAL', 'SCHEDULED', 'CANCELLED', 'EXPIRED'],
  AWAITING_APPROVAL: ['SCHEDULED', 'REJECTED', 'CANCELLED'],
  SCHEDULED: ['RESTORED', 'ERASING'],
  ERASING: ['COMPLETED', 'NEEDS_ATTENTION'],
  NEEDS_ATTENTION: ['ERASING'],
  RESTORED: [],
  CANCELLED: [],
  REJECTED: [],
  EXPIRED: [],
  COMPLETED: [],
};

/** Whether the state machine has an edge from `from` to `to`. */
export const canTransition = (from: DeletionState, to: DeletionState): boolean =>
  allowed[from].includes(to);

/** A state with no way out. */
export const isTerminal = (state: DeletionState): boolean => allowed[state].length === 0;

/** States that hold the subject's one active request; only one may exist per subject. */
export const isActive = (state: DeletionState): boolean => !isTerminal(state);

/** The states of open (active) requests. */
export const openStates: readonly DeletionState[] = deletionStates.filter(isActive);

/**
 * What the subject's account should look like in a state: suspended from soft
 * delete on, active again once restored, untouched before confirmation.
 */
export type AccountCondition = 'UNTOUCHED' | 'SUSPENDED' | 'ACTIVE';

/** The account condition a request in `state` requires. */
export const accountConditionFor = (state: DeletionState): AccountCondition => {
  switch (state) {
    case 'SCHEDULED':
    case 'ERASING':
    case 'NEEDS_ATTENTION':
    case 'COMPLETED':
      return 'SUSPENDED';
    case 'RESTORED':
      return 'ACTIVE';
    case 'REQUESTED':
    case 'AWAITING_APPROVAL':
    case 'CANCELLED':
    case 'REJECTED':
    case 'EXPIRED':
      return 'UNTOUCHED';
  }
};

/** What each change into a state is called where it is named (the audit log's `transition`). */
const transitions: Readonly<Record<DeletionState, string>> = {
  REQUESTED: 'REQUESTED',
  AWAITING_APPROVAL: 'CONFIRMED',
  SCHEDULED: 'CONFIRMED',
  RESTORED: 'UNDELETED',
  CANCELLED: 'CANCELLED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
  ERASING: 'ERASURE_STARTED',
  COMPLETED: 'COMPLETED',
  NEEDS_ATTENTION: 'ATTENTION_NEEDED',
};

/**
 * The name of a change of state: what happened (CONFIRMED, APPROVED,
 * UNDELETED, ERASURE_STARTED, ERASURE_RESUMED …), so an auditor reads the
 * action and not only two states.
 */
export const transitionName = (from: DeletionState, to: DeletionState): string => {
  if (from === 'AWAITING_APPROVAL' && to === 'SCHEDULED') return 'APPROVED';
  if (from === 'NEEDS_ATTENTION' && to === 'ERASING') return 'ERASURE_RESUMED';
  return transitions[to];
};
