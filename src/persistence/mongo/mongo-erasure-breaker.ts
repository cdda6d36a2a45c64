import type { Connection } from 'mongoose';
import type { BreakerStore } from '../../app/ports/breaker-store.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import {
  initialBreaker,
  type BreakerState,
  type ErasureStart,
} from '../../domain/erasure-breaker.js';
import { insertedFirst, isDuplicateKey, mongoCall } from './classify-mongo-error.js';

const ERASURE_BREAKER = 'erasure_breaker';

/** One version of the breaker: the version is the `_id`, so exactly one writer makes each. */
type BreakerVersion = { _id: number } & Omit<BreakerState, 'version' | 'counts' | 'counted'> &
  Partial<Pick<BreakerState, 'counts' | 'counted'>> & {
    /** Written before starts were counted by stretch: every start in the window, one by one. */
    readonly starts?: readonly ErasureStart[];
  };

/** The highest version a writer has seen written: where to start looking for the newest. */
interface BreakerHead {
  _id: 'head';
  version: number;
}

/** Versions this far behind the newest keep only their `_id` (the claim), not their state. */
const KEPT_VERSIONS = 20;

/**
 * A stored version as the breaker's state. One written before stretches
 * holds its starts one by one: each becomes a stretch of its own instant
 * (counted as before until it leaves the window) and is remembered as counted.
 */
const fromDocument = (document: BreakerVersion): BreakerState => {
  const { _id, counts, counted, pause, resumed, starts = [] } = document;
  return {
    version: _id,
    counts: [
      ...starts.map(({ requester, at }) => ({
        from: at,
        to: new Date(at.getTime() + 1),
        total: 1,
        requesters: requester === null ? [] : [{ requester, count: 1 }],
      })),
      ...(counts ?? []).map(({ from, to, total, requesters }) => ({
        from,
        to,
        total,
        requesters: requesters.map(({ requester, count }) => ({ requester, count })),
      })),
    ],
    counted: [
      ...starts.map(({ deletionRequestId, at }) => ({ at, ids: [deletionRequestId] })),
      ...(counted ?? []).map(({ at, ids }) => ({ at, ids: [...ids] })),
    ],
    pause,
    resumed,
  };
};

/**
 * The mass-deletion breaker in MongoDB (or FerretDB), append-only: each new
 * state is inserted with `_id` = its version, which only one writer can do
 * (FerretDB 1.24 runs a version-guarded update as "read, then overwrite", so
 * an update would let two writers win). The newest is found from a head hint
 * plus reads by `_id`; old versions are emptied, never deleted, so a writer
 * that read one can never claim the version after it again.
 */
export const createMongoErasureBreaker = (conn: Connection): BreakerStore => {
  const versions = conn.collection<BreakerVersion | BreakerHead>(ERASURE_BREAKER);
  /** The newest state this replica read or wrote. */
  let known: BreakerState | undefined;
  const newest = async (): Promise<BreakerState> => {
    const head = (await versions.findOne({ _id: 'head' })) as BreakerHead | null;
    let found: BreakerState | undefined = known;
    if (found === undefined && head !== null && head.version > 0) {
      const atHead = (await versions.findOne({ _id: head.version })) as BreakerVersion | null;
      found = atHead === null ? undefined : fromDocument(atHead);
    }
    for (let version = Math.max(head?.version ?? 0, found?.version ?? 0); ; version += 1) {
      const next = (await versions.findOne({ _id: version + 1 })) as BreakerVersion | null;
      if (next === null) break;
      found = fromDocument(next);
    }
    known = found ?? initialBreaker;
    return known;
  };
  return {
    load: (options) =>
      known !== undefined && options?.cached === true
        ? Promise.resolve(known)
        : mongoCall(persistenceSpan(ERASURE_BREAKER, 'load'), {}, newest),
    save: (next, previous) =>
      mongoCall(persistenceSpan(ERASURE_BREAKER, 'save'), {}, async () => {
        if (next.version !== previous.version + 1) return false;
        const { version, ...state } = next;
        if (!(await insertedFirst(() => versions.insertOne({ _id: version, ...state })))) {
          known = undefined;
          return false;
        }
        known = next;
        // Best effort: a lagging hint costs a few reads, never a wrong state. Two first writers
        // may both try to create it (FerretDB does not retry such an upsert, MongoDB does): the
        // one that loses moves the head the other made.
        const raise = (upsert: boolean) =>
          versions.updateOne({ _id: 'head' }, { $max: { version } }, { upsert });
        await raise(true).catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
          return raise(false);
        });
        // Versions are consecutive: emptying the one that just fell behind keeps them all small.
        await versions.updateOne(
          { _id: version - KEPT_VERSIONS },
          { $set: { counts: [], counted: [], pause: null, resumed: null } },
        );
        return true;
      }),
  };
};
