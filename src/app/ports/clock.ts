import type { DeletionRequestId } from '../../domain/ids.js';

/** Time, so tests can fix it. */
export interface Clock {
  now(): Date;
}

/** New unguessable ids. */
export interface IdGenerator {
  newDeletionRequestId(): DeletionRequestId;
  /** A random id for an event that happens once (an audited read or action). */
  newEventId(): string;
}
