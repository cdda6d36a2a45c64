import type { PauseReason } from '../../domain/erasure-breaker.js';

/** Counts what the use cases see happen, for metrics. Names and codes only. */
export interface DeletionMetrics {
  /** A call to a linked service failed; `retrying` when it will be tried again later. */
  participantFailed(failure: {
    readonly participant: string;
    readonly phase: 'suspend' | 'restore' | 'erase';
    readonly reason: string;
    readonly retrying: boolean;
  }): void;
  /** The mass-deletion breaker tripped: erasures are paused. */
  breakerTripped(reason: PauseReason): void;
  /** An erasure due to start was held back because erasures are paused. */
  erasureHeld(): void;
}
