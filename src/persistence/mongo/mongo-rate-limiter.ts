import type { Connection } from 'mongoose';
import { RateLimiterMemory, RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../../app/ports/clock.js';
import type { RateLimiter, RateVerdict } from '../../app/ports/rate-limiter.js';
import { attributeKeys, persistenceSpan } from '../../telemetry/catalogue.js';
import {
  isPrincipalLimit,
  type PrincipalLimit,
  type RateBudget,
  type RateLimit,
} from '../../domain/rate-limits.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';
import { createRateLimitPositions, RATE_LIMIT_POSITIONS } from './rate-limit-positions.js';
import { createRateLimitSlots, RATE_LIMIT_SLOTS } from './rate-limit-slots.js';
import type { WriteProtocol } from './request-writes.js';

/** The collection of rate-limiter-flexible's counters (per-principal budgets). */
export const RATE_LIMITS = 'rate_limits';

/** The index rate-limiter-flexible needs; its own set includes a TTL index FerretDB 1.24 refuses. */
export const rateLimitIndexes = [{ key: { key: 1 as const }, name: 'key', unique: true as const }];

/** What the limiter is built from. */
export interface MongoRateLimiterOptions {
  readonly budgets: Readonly<Record<RateLimit, RateBudget>>;
  /** A keyed digest of a key: principal and subject ids are never stored as they are. */
  readonly digest: (key: string) => string;
  readonly clock: Clock;
  /** How the server takes a guarded write: exact budgets are kept to suit it. */
  readonly protocol: WriteProtocol;
}

/** A first write of a counter can lose a race on FerretDB with an error the library does not retry. */
const MAX_TRIES = 3;

const counterFor = (conn: Connection, limit: PrincipalLimit, budget: RateBudget) =>
  new RateLimiterMongo({
    storeClient: conn,
    tableName: RATE_LIMITS,
    keyPrefix: limit,
    points: budget.points,
    duration: Math.max(1, Math.ceil(budget.windowMs / 1000)),
    disableIndexesCreation: true,
  });

/** The read budget of this replica alone, in its memory (entries expire with their window). */
const localCounterFor = (budget: RateBudget) =>
  new RateLimiterMemory({
    keyPrefix: 'read',
    points: budget.points,
    duration: Math.max(1, Math.ceil(budget.windowMs / 1000)),
  });

const spend = async (
  counter: RateLimiterMongo | RateLimiterMemory,
  key: string,
): Promise<RateVerdict> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await counter.consume(key);
      return { allowed: true };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes)
        return { allowed: false, retryDelayMs: rejection.msBeforeNext };
      if (!isDuplicateKey(rejection) || attempt >= MAX_TRIES) throw rejection;
    }
  }
};

/**
 * Rate limits in the service's database, shared by every replica, except
 * reads: a principal's read budget is counted by each replica in its own
 * memory (so R replicas serve up to R × the budget in a window). Reads change
 * nothing and already go on when the store is down; a database write per read
 * cost more than the limit is worth. Mutations and outcome reports use
 * rate-limiter-flexible's Mongo store (one
 * findOneAndUpdate per call; its count is exact on MongoDB, and can run over
 * under heavy concurrency on FerretDB 1.24, whose `$inc` is not atomic). The
 * per-subject budgets that bound code guessing must be exact everywhere, so
 * they use claimed slots (rate-limit-slots.ts: an insert and a read), or on
 * a server that compare-and-sets, positions (rate-limit-positions.ts: one
 * guarded update). No TTL index: `sweep` deletes what expired. Store
 * failures throw UNAVAILABLE.
 */
export const createMongoRateLimiter = (
  conn: Connection,
  options: MongoRateLimiterOptions,
): RateLimiter => {
  const counters: Readonly<Record<Exclude<PrincipalLimit, 'read'>, RateLimiterMongo>> = {
    mutation: counterFor(conn, 'mutation', options.budgets.mutation),
    participant: counterFor(conn, 'participant', options.budgets.participant),
  };
  const reads = localCounterFor(options.budgets.read);
  const slots =
    options.protocol === 'compare-and-set'
      ? createRateLimitPositions(conn)
      : createRateLimitSlots(conn);
  return {
    consume: (limit, key) =>
      limit === 'read'
        ? spend(reads, options.digest(key))
        : mongoCall(
            persistenceSpan('rate_limit', 'consume'),
            { [attributeKeys.rateLimit]: limit },
            () => {
              const digest = options.digest(key);
              if (isPrincipalLimit(limit)) return spend(counters[limit], digest);
              return slots.take(`${limit}:${digest}`, options.budgets[limit], options.clock.now());
            },
          ),
    sweep: () =>
      mongoCall(persistenceSpan('rate_limit', 'sweep'), {}, async () => {
        const expired = { expire: { $lte: options.clock.now() } };
        const swept = await Promise.all(
          [RATE_LIMITS, RATE_LIMIT_SLOTS, RATE_LIMIT_POSITIONS].map((name) =>
            conn.collection(name).deleteMany(expired),
          ),
        );
        return swept.reduce((sum, result) => sum + result.deletedCount, 0);
      }),
  };
};
