import type { InputOf } from '../../app/deletion-service.js';
import type { DeletionRequestCounts } from '../../app/requests/count-deletion-requests.js';
import { deletionStates } from '../../domain/deletion-state.js';
import type {
  CountDeletionRequestsRequest,
  CountDeletionRequestsResponse,
} from '../../gen/deletion/v1/deletion_service.js';
import { optional, stateToProto } from './proto-codec.js';

type QueueFilters = Pick<InputOf<'listDeletionRequests'>, 'jurisdiction' | 'linkedService'>;

/**
 * The queue's filters as the use cases take them: unset ('') is no filter;
 * a jurisdiction passes on as sent, for the use case to validate.
 */
export const queueFiltersFromProto = (request: {
  readonly jurisdiction: string;
  readonly linkedService: string;
}): QueueFilters => ({
  jurisdiction: optional(request.jurisdiction) as QueueFilters['jurisdiction'],
  linkedService: optional(request.linkedService),
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
