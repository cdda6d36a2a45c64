import type { DeletionMetrics } from '../../../src/app/ports/deletion-metrics.js';
import type { PauseReason } from '../../../src/domain/erasure-breaker.js';

/** A failed call to a linked service, as counted. */
export type ParticipantFailure = Parameters<DeletionMetrics['participantFailed']>[0];

/** Metrics that keep what they were told, for a test to read. */
export interface FakeDeletionMetrics extends DeletionMetrics {
  readonly failures: readonly ParticipantFailure[];
  readonly trips: readonly PauseReason[];
  /** How many erasures were held back. */
  held(): number;
}

/** Fake deletion metrics. */
export const fakeDeletionMetrics = (): FakeDeletionMetrics => {
  const failures: ParticipantFailure[] = [];
  const trips: PauseReason[] = [];
  let held = 0;
  return {
    failures,
    trips,
    held: () => held,
    participantFailed: (failure) => {
      failures.push({ ...failure });
    },
    breakerTripped: (reason) => {
      trips.push(reason);
    },
    erasureHeld: () => {
      held += 1;
    },
  };
};
