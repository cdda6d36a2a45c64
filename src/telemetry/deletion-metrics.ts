import { context, metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { DeletionMetrics } from '../app/ports/deletion-metrics.js';
import type {
  DeletionRequestRepository,
  OpenCounts,
} from '../app/ports/deletion-request-repository.js';
import { attributeKeys, metricNames } from './catalogue.js';
import { addedChanges, type DeletionRequest } from '../domain/deletion-request.js';
import { openStates } from '../domain/deletion-state.js';
import { currentInstruments } from './instruments.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

const instruments = currentInstruments((meter) => ({
  transitions: meter.createCounter(metricNames.transitions, {
    description: 'State changes of deletion requests, by from and to state',
  }),
  timeInState: meter.createHistogram(metricNames.timeInState, {
    unit: 's',
    description: 'Time a deletion request spent in a state, recorded when it left it',
    advice: {
      explicitBucketBoundaries: [1, 10, 60, 600, HOUR, 6 * HOUR, DAY, 7 * DAY, 30 * DAY, 90 * DAY],
    },
  }),
  failures: meter.createCounter(metricNames.participantFailures, {
    description: 'Failed calls to linked services, by participant, phase and reason',
  }),
  retries: meter.createCounter(metricNames.participantRetries, {
    description:
      'Failed calls to linked services that will be tried again, by participant and phase',
  }),
  breakerTrips: meter.createCounter(metricNames.breakerTrips, {
    description: 'Times the mass-deletion breaker paused erasures, by reason',
  }),
  erasuresHeld: meter.createCounter(metricNames.erasuresHeld, {
    description: 'Erasures due to start that were held back because erasures are paused',
  }),
}));

/** Counts the state changes `next` made on top of `previous`, and how long each state lasted. */
const recordTransitions = (previous: DeletionRequest, next: DeletionRequest): void => {
  const { transitions, timeInState } = instruments();
  for (const { change, enteredAt } of addedChanges(previous, next)) {
    transitions.add(1, {
      [attributeKeys.fromState]: change.from,
      [attributeKeys.toState]: change.to,
    });
    timeInState.record(Math.max(0, (change.at.getTime() - enteredAt.getTime()) / 1000), {
      [attributeKeys.state]: change.from,
    });
  }
};

/**
 * The repository, counting every state change it stores: once, by the writer
 * that won the version (a lost race stores nothing, and counts nothing). Not
 * counted: a change whose writer died (or stalled past the orphan time) after
 * claiming its version, which another writer then rolled forward.
 */
export const meteredRequests = (
  requests: DeletionRequestRepository,
): DeletionRequestRepository => ({
  ...requests,
  update: async (next, previous) => {
    const written = await requests.update(next, previous);
    if (written) recordTransitions(previous, next);
    return written;
  },
});

/** Failures and retries of calls to linked services. */
export const deletionMetrics: DeletionMetrics = {
  participantFailed: ({ participant, phase, reason, retrying }) => {
    const { failures, retries } = instruments();
    const attributes = { [attributeKeys.participant]: participant, [attributeKeys.phase]: phase };
    failures.add(1, { ...attributes, [attributeKeys.errorReason]: reason });
    if (retrying) retries.add(1, attributes);
  },
  breakerTripped: (reason) => {
    instruments().breakerTrips.add(1, { [attributeKeys.breakerReason]: reason });
  },
  erasureHeld: () => {
    instruments().erasuresHeld.add(1);
  },
};

/**
 * Gauges of open requests by state (NEEDS_ATTENTION among them) and of those
 * near their legal deadline, read from the database each time metrics are
 * collected (outside any trace: a collection is not a step of a deletion).
 * Every replica reports the same shared counts: aggregate them with max, not
 * sum. A failed read (the database is down) reports nothing, and a cumulative
 * exporter then repeats the last values: `deletion.requests.counted_at` says
 * when they were read. Returns a function that stops them.
 */
export const observeOpenRequests = (
  read: () => Promise<OpenCounts>,
  now: () => Date,
): (() => void) => {
  const meter = metrics.getMeter('account-deletion-service');
  const open = meter.createObservableGauge(metricNames.openRequests, {
    description: 'Open deletion requests, by state (the same in every replica)',
  });
  const nearDeadline = meter.createObservableGauge(metricNames.nearDeadline, {
    description:
      'Open deletion requests whose legal deadline is within the warning period or past (the same in every replica)',
  });
  const countedAt = meter.createObservableGauge(metricNames.countedAt, {
    unit: 's',
    description: 'When the open request gauges were last read from the database (Unix time)',
  });
  const callback: BatchObservableCallback = async (result) => {
    const counts = await context.with(suppressTracing(context.active()), read).catch(() => null);
    if (counts === null) return;
    for (const state of openStates)
      result.observe(open, counts.byState[state] ?? 0, { [attributeKeys.state]: state });
    result.observe(nearDeadline, counts.nearDeadline);
    result.observe(countedAt, Math.floor(now().getTime() / 1000));
  };
  meter.addBatchObservableCallback(callback, [open, nearDeadline, countedAt]);
  return () => {
    meter.removeBatchObservableCallback(callback, [open, nearDeadline, countedAt]);
  };
};
