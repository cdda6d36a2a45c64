import type { Connection } from 'mongoose';
import type { BreakerStore } from '../../app/ports.js';
import { persistenceSpan } from '../../app/telemetry-catalogue.js';
import { initialBreaker, type BreakerState } from '../../domain/erasure-breaker.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';

export const ERASURE_BREAKER = 'erasure_breaker';

/** The one breaker document; `version` guards every write. */
type BreakerDocument = { _id: 'breaker' } & BreakerState;

const fromDocument = (state: BreakerDocument): BreakerState => ({
  version: state.version,
  starts: state.starts.map(({ deletionRequestId, requester, at }) => ({
    deletionRequestId,
    requester,
    at,
  })),
  pause: state.pause,
  resumed: state.resumed,
});

/**
 * The mass-deletion breaker in MongoDB (or FerretDB): one document, written
 * only when its version is still the one read (or inserted once, when there
 * is none yet), so replicas never lose each other's counts.
 */
export const createMongoErasureBreaker = (conn: Connection): BreakerStore => {
  const breakers = conn.collection<BreakerDocument>(ERASURE_BREAKER);
  return {
    load: () =>
      mongoCall(persistenceSpan(ERASURE_BREAKER, 'load'), {}, async () => {
        const found = await breakers.findOne({ _id: 'breaker' });
        return found === null ? initialBreaker : fromDocument(found);
      }),
    save: (next, previous) =>
      mongoCall(persistenceSpan(ERASURE_BREAKER, 'save'), {}, async () => {
        if (previous.version === 0) {
          try {
            await breakers.insertOne({ _id: 'breaker', ...next });
            return true;
          } catch (error) {
            if (isDuplicateKey(error)) return false;
            throw error;
          }
        }
        const result = await breakers.updateOne(
          { _id: 'breaker', version: previous.version },
          { $set: { ...next } },
        );
        return result.matchedCount === 1;
      }),
  };
};
