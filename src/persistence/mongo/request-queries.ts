import type { Model, QueryFilter } from 'mongoose';
import type {
  CountQuery,
  LinkedServiceLoad,
  ListQuery,
  RequestCounts,
  RequestFilter,
} from '../../app/ports/deletion-request-repository.js';
import { deletionStates, openStates, type DeletionState } from '../../domain/deletion-state.js';
import {
  bothStates,
  stepSelection,
  type LinkedServiceStep,
} from '../../domain/linked-service-step.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';

type Filter = QueryFilter<DeletionRequestDocument>;

/**
 * The path of a linked service's step status. Names are validated
 * (`[a-z][a-z0-9_-]*`), so they hold no `.` or `$`. A dotted path: FerretDB
 * 1.x evaluates it in Go over the documents the rest of the filter reaches,
 * acceptable for the console's reads, never on the worker's path.
 */
const stepStatus = (name: string): string => `participants.${name}.status`;

/**
 * The filters of a list or count, as a query, with the states they allow
 * besides (`state`: undefined is any). A step filter may allow only some
 * states (`stepSelection`); an empty list takes nothing.
 */
const filterOf = (filter: RequestFilter, states: readonly DeletionState[] | undefined): Filter => {
  const query: Filter = {};
  if (filter.jurisdiction !== undefined) query.jurisdiction = filter.jurisdiction;
  let allowed = states;
  if (filter.linkedService !== undefined) {
    const selection = stepSelection(filter.linkedServiceStep);
    query[stepStatus(filter.linkedService)] = { $in: selection.statuses };
    allowed = bothStates(states, selection.states);
  }
  const [only, ...others] = allowed ?? [];
  if (only !== undefined && others.length === 0) query.state = only;
  else if (allowed !== undefined) query.state = { $in: allowed };
  return query;
};

/** The one state asked for, as a list (undefined: any). */
const stateOf = (state: DeletionState | undefined): readonly DeletionState[] | undefined =>
  state === undefined ? undefined : [state];

/**
 * A page of a list: the query and its order. Newest first on (createdAt,
 * _id); with `deadlineBefore`, open requests only, soonest first on
 * (legalDeadline, _id), which the `state_legal_deadline` index serves on MongoDB.
 */
export const listQueryOf = (
  query: ListQuery,
): { readonly filter: Filter; readonly sort: Record<string, 1 | -1> } => {
  const { after, deadlineBefore } = query;
  const states = stateOf(query.state);
  const filter = filterOf(
    query,
    deadlineBefore === undefined ? states : bothStates(states, openStates),
  );
  if (query.subjectId !== undefined) filter.subjectId = query.subjectId;
  if (deadlineBefore === undefined) {
    if (after !== undefined)
      filter.$or = [
        { createdAt: { $lt: after.at } },
        { createdAt: after.at, _id: { $lt: after.id } },
      ];
    return { filter, sort: { createdAt: -1, _id: -1 } };
  }
  filter.legalDeadline = { $lt: deadlineBefore };
  if (after !== undefined)
    filter.$or = [
      { legalDeadline: { $gt: after.at } },
      { legalDeadline: after.at, _id: { $gt: after.id } },
    ];
  return { filter, sort: { legalDeadline: 1, _id: 1 } };
};

/**
 * Requests by state under the filters: without a linked service, one count
 * per state (each answered by an index led by `state`, no collection scan);
 * with one, a `$group` over the requests its step filter reaches. Open ones
 * past or near their deadline: two counts. All work on MongoDB and FerretDB 1.24.
 */
export const countRequests = async (
  model: Model<DeletionRequestDocument>,
  query: CountQuery,
): Promise<RequestCounts> => {
  const open = filterOf(query, openStates);
  const [byState, pastDeadline, dueSoon] = await Promise.all([
    countByState(model, query),
    model.countDocuments({ ...open, legalDeadline: { $lt: query.now } }).exec(),
    model
      .countDocuments({ ...open, legalDeadline: { $gte: query.now, $lt: query.dueBefore } })
      .exec(),
  ]);
  return { byState, pastDeadline, dueSoon };
};

/** By state: states with none are left out, as the `$group` leaves them. */
const countByState = async (
  model: Model<DeletionRequestDocument>,
  query: CountQuery,
): Promise<RequestCounts['byState']> => {
  if (query.linkedService === undefined) {
    const counts = await Promise.all(
      deletionStates.map((state) => model.countDocuments(filterOf(query, [state])).exec()),
    );
    return Object.fromEntries(
      deletionStates.flatMap((state, index) => (counts[index] ? [[state, counts[index]]] : [])),
    );
  }
  const groups = await model
    .aggregate<{ _id: DeletionState; count: number }>([
      { $match: filterOf(query, undefined) },
      { $group: { _id: '$state', count: { $sum: 1 } } },
    ])
    .exec();
  return Object.fromEntries(groups.map((group) => [group._id, group.count]));
};

/** Requests a step filter at `name` takes, in `states` besides. */
const stepCount = (
  model: Model<DeletionRequestDocument>,
  name: string,
  step: { readonly kind: LinkedServiceStep; readonly states: readonly DeletionState[] | undefined },
): Promise<number> =>
  model
    .countDocuments(
      filterOf(
        { jurisdiction: undefined, linkedService: name, linkedServiceStep: step.kind },
        step.states,
      ),
    )
    .exec();

/**
 * Per linked service, two counts led by the state (steps exist only from
 * ERASING on), by the step filters the queue takes: WAITING, and FAILED in
 * NEEDS_ATTENTION.
 */
export const countByLinkedService = async (
  model: Model<DeletionRequestDocument>,
  names: readonly string[],
): Promise<Record<string, LinkedServiceLoad>> => {
  const loads = await Promise.all(
    names.map(async (name): Promise<[string, LinkedServiceLoad]> => {
      const [waiting, needingAttention] = await Promise.all([
        stepCount(model, name, { kind: 'WAITING', states: undefined }),
        stepCount(model, name, { kind: 'FAILED', states: ['NEEDS_ATTENTION'] }),
      ]);
      return [name, { waiting, needingAttention }];
    }),
  );
  return Object.fromEntries(loads);
};
