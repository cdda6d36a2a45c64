import type { Model, QueryFilter } from 'mongoose';
import type {
  CountQuery,
  LinkedServiceLoad,
  ListQuery,
  RequestCounts,
  RequestFilter,
} from '../../app/ports/deletion-request-repository.js';
import { openStates, type DeletionState } from '../../domain/deletion-state.js';
import { unfinishedStatuses, waitingStatuses } from '../../domain/erasure-steps.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';

type Filter = QueryFilter<DeletionRequestDocument>;

/**
 * The path of a linked service's step status. Names are validated
 * (`[a-z][a-z0-9_-]*`), so they hold no `.` or `$`. A dotted path: FerretDB
 * 1.x evaluates it in Go over the documents the rest of the filter reaches,
 * acceptable for the console's reads, never on the worker's path.
 */
const stepStatus = (name: string): string => `participants.${name}.status`;

/** The filters of a list or count, as a query. */
const filterOf = (filter: RequestFilter): Filter => {
  const query: Filter = {};
  if (filter.jurisdiction !== undefined) query.jurisdiction = filter.jurisdiction;
  if (filter.linkedService !== undefined)
    query[stepStatus(filter.linkedService)] = { $in: unfinishedStatuses };
  return query;
};

/** Open states, or the one asked for when it is open; none when it is closed. */
const openStatesOf = (state: DeletionState | undefined): readonly DeletionState[] =>
  state === undefined ? openStates : openStates.filter((open) => open === state);

/**
 * A page of a list: the query and its order. Newest first on (createdAt,
 * _id); with `deadlineBefore`, open requests only, soonest first on
 * (legalDeadline, _id), which the `state_legal_deadline` index serves on MongoDB.
 */
export const listQueryOf = (
  query: ListQuery,
): { readonly filter: Filter; readonly sort: Record<string, 1 | -1> } => {
  const filter = filterOf(query);
  if (query.subjectId !== undefined) filter.subjectId = query.subjectId;
  const { after, deadlineBefore } = query;
  if (deadlineBefore === undefined) {
    if (query.state !== undefined) filter.state = query.state;
    if (after !== undefined)
      filter.$or = [
        { createdAt: { $lt: after.at } },
        { createdAt: after.at, _id: { $lt: after.id } },
      ];
    return { filter, sort: { createdAt: -1, _id: -1 } };
  }
  filter.state = { $in: openStatesOf(query.state) };
  filter.legalDeadline = { $lt: deadlineBefore };
  if (after !== undefined)
    filter.$or = [
      { legalDeadline: { $gt: after.at } },
      { legalDeadline: after.at, _id: { $gt: after.id } },
    ];
  return { filter, sort: { legalDeadline: 1, _id: 1 } };
};

/**
 * Requests by state under the filters (one `$group`), and open ones past or
 * near their deadline (two counts): all three work on MongoDB and FerretDB 1.24.
 */
export const countRequests = async (
  model: Model<DeletionRequestDocument>,
  query: CountQuery,
): Promise<RequestCounts> => {
  const filter = filterOf(query);
  const open = { ...filter, state: { $in: openStates } };
  const [groups, pastDeadline, dueSoon] = await Promise.all([
    model
      .aggregate<{ _id: DeletionState; count: number }>([
        { $match: filter },
        { $group: { _id: '$state', count: { $sum: 1 } } },
      ])
      .exec(),
    model.countDocuments({ ...open, legalDeadline: { $lt: query.now } }).exec(),
    model
      .countDocuments({ ...open, legalDeadline: { $gte: query.now, $lt: query.dueBefore } })
      .exec(),
  ]);
  return {
    byState: Object.fromEntries(groups.map((group) => [group._id, group.count])),
    pastDeadline,
    dueSoon,
  };
};

/** Per linked service, two counts led by the state (steps exist only from ERASING on). */
export const countByLinkedService = async (
  model: Model<DeletionRequestDocument>,
  names: readonly string[],
): Promise<Record<string, LinkedServiceLoad>> => {
  const loads = await Promise.all(
    names.map(async (name): Promise<[string, LinkedServiceLoad]> => {
      const [waiting, needingAttention] = await Promise.all([
        model
          .countDocuments({
            state: { $in: openStates },
            [stepStatus(name)]: { $in: waitingStatuses },
          })
          .exec(),
        model.countDocuments({ state: 'NEEDS_ATTENTION', [stepStatus(name)]: 'FAILED' }).exec(),
      ]);
      return [name, { waiting, needingAttention }];
    }),
  );
  return Object.fromEntries(loads);
};
