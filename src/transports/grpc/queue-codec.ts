import type { InputOf } from '../../app/deletion-service.js';
import type { DeletionRequestCounts } from '../../app/requests/count-deletion-requests.js';
import { deletionStates } from '../../domain/deletion-state.js';
import {
  linkedServiceSteps,
  type LinkedServiceStep as DomainStep,
} from '../../domain/linked-service-step.js';
import type { LinkedServicesHealth } from '../../app/participants/get-linked-service-health.js';
import type { Duration } from '../../gen/google/protobuf/duration.js';
import {
  LinkedServiceStep,
  type CountDeletionRequestsRequest,
  type CountDeletionRequestsResponse,
  type GetLinkedServiceHealthResponse,
} from '../../gen/deletion/v1/deletion_service.js';
import { durationOf, optional, stateToProto } from './proto-codec.js';

type QueueFilters = Pick<
  InputOf<'listDeletionRequests'>,
  'jurisdiction' | 'linkedService' | 'linkedServiceStep'
>;

const steps: Readonly<Record<DomainStep, LinkedServiceStep>> = {
  WAITING: LinkedServiceStep.LINKED_SERVICE_STEP_WAITING,
  FAILED: LinkedServiceStep.LINKED_SERVICE_STEP_FAILED,
};

/** The step filter: none for UNSPECIFIED; a value this version does not know stays as it came, for the input check to refuse. */
const stepFromProto = (step: LinkedServiceStep): DomainStep | undefined => {
  if (step === LinkedServiceStep.LINKED_SERVICE_STEP_UNSPECIFIED) return undefined;
  return (
    linkedServiceSteps.find((candidate) => steps[candidate] === step) ??
    (String(step) as DomainStep)
  );
};

/**
 * The queue's filters as the use cases take them: unset ('') is no filter;
 * a jurisdiction passes on as sent, for the use case to validate.
 */
export const queueFiltersFromProto = (request: {
  readonly jurisdiction: string;
  readonly linkedService: string;
  readonly linkedServiceStep: LinkedServiceStep;
}): QueueFilters => ({
  jurisdiction: optional(request.jurisdiction) as QueueFilters['jurisdiction'],
  linkedService: optional(request.linkedService),
  linkedServiceStep: stepFromProto(request.linkedServiceStep),
});

/** CountDeletionRequestsRequest → the use case's input (0 days: the default). */
export const countsInputFromProto = (
  request: CountDeletionRequestsRequest,
): InputOf<'countDeletionRequests'> => ({
  ...queueFiltersFromProto(request),
  ...(request.dueWithinDays !== 0 && { dueWithinDays: request.dueWithinDays }),
});

/** The counts on the wire: every state in the enum's order. */
export const toCountsProto = (counts: DeletionRequestCounts): CountDeletionRequestsResponse => ({
  stateCounts: deletionStates.map((state) => ({
    state: stateToProto(state),
    count: String(counts.byState[state]),
  })),
  pastDeadlineCount: String(counts.pastDeadline),
  dueSoonCount: String(counts.dueSoon),
  dueWithinDays: counts.dueWithinDays,
  countTime: counts.countedAt,
});

/** A latency as a Duration; unset when there is none. */
const latencyOf = (ms: number | null): Duration | undefined =>
  ms === null ? undefined : durationOf(ms);

/** The linked services' health on the wire. */
export const toHealthProto = (health: LinkedServicesHealth): GetLinkedServiceHealthResponse => ({
  linkedServices: health.linkedServices.map((service) => ({
    name: service.name,
    waitingCount: String(service.waiting),
    attentionCount: String(service.needingAttention),
    recentCalls: {
      window: durationOf(service.recentCalls.windowMs),
      callCount: String(service.recentCalls.calls),
      failureCount: String(service.recentCalls.failures),
      latencyP50: latencyOf(service.recentCalls.p50Ms),
      latencyP95: latencyOf(service.recentCalls.p95Ms),
    },
  })),
  readTime: health.readAt,
});
