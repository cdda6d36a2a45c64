import mongoose from 'mongoose';
import { DomainError } from '../../domain/domain-error.js';
import { withSpan } from '../../telemetry/with-span.js';
import { attributeKeys } from '../../telemetry/catalogue.js';

const { mongo } = mongoose;

/** Driver errors that mean "the database cannot be reached right now". */
const unreachable = [
  mongo.MongoNetworkError, // includes network timeouts and cleared pools
  mongo.MongoServerSelectionError,
  mongo.MongoNotConnectedError,
  mongo.MongoTopologyClosedError,
  mongo.MongoClientClosedError,
  mongo.MongoServerClosedError,
  mongo.MongoOperationTimeoutError,
];

/** Errors mongoose raises itself when no server answers (or no connection is open yet). */
const unreachableNames = new Set([
  'MongooseServerSelectionError',
  'MongoWaitQueueTimeoutError',
  'MongoPoolClosedError',
]);
const notConnectedMessage = /before initial connection is complete|connection was force closed/i;

/** Server answers of a node that is shutting down, stepping down or cannot reach its peers. */
const transientCodes = new Set([
  6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436, 50, 262,
]);

const isUnreachable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (unreachable.some((type) => error instanceof type) || unreachableNames.has(error.name))
    return true;
  if (error instanceof mongo.MongoServerError) {
    return transientCodes.has(Number(error.code)) || error.hasErrorLabel('RetryableWriteError');
  }
  if (error.name === 'MongooseError' && notConnectedMessage.test(error.message)) return true;
  return error.cause !== undefined && error.cause !== error && isUnreachable(error.cause);
};

/**
 * Turns anything a Mongo call throws into a DomainError: unreachable or
 * overloaded database → UNAVAILABLE `DATABASE_UNAVAILABLE`, anything else →
 * INTERNAL `DATABASE_ERROR`. The driver error stays as `cause` (logs only).
 */
export const classifyMongoError = (error: unknown): DomainError => {
  if (DomainError.is(error)) return error;
  if (isUnreachable(error)) {
    return new DomainError({
      code: 'UNAVAILABLE',
      reason: 'DATABASE_UNAVAILABLE',
      message: 'the database is unavailable; retry later',
      cause: error,
    });
  }
  return new DomainError({
    code: 'INTERNAL',
    reason: 'DATABASE_ERROR',
    message: 'database error',
    cause: error,
  });
};

/** Runs one database call in a span (`db.system.name` mongodb); whatever it throws leaves as a DomainError. */
export const mongoCall = <T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  call: () => Promise<T>,
): Promise<T> =>
  withSpan(name, { [attributeKeys.dbSystem]: 'mongodb', ...attributes }, async () => {
    try {
      return await call();
    } catch (error) {
      throw classifyMongoError(error);
    }
  });

/**
 * Whether a unique index refused a write: E11000, or (FerretDB 1.24, on update) an
 * internal error carrying its storage's refusal: SQLite's "UNIQUE constraint failed",
 * PostgreSQL's unique_violation (SQLSTATE 23505).
 */
export const isDuplicateKey = (
  error: unknown,
): error is InstanceType<typeof mongoose.mongo.MongoServerError> =>
  error instanceof mongoose.mongo.MongoServerError &&
  (error.code === 11000 ||
    error.message.includes('UNIQUE constraint failed') ||
    error.message.includes('(SQLSTATE 23505)'));

/**
 * Runs an insert whose unique `_id` is a claim: true when this insert made it,
 * false when the `_id` was taken already (by another writer, or an earlier
 * try). The one compare-and-set every MongoDB-compatible server does atomically.
 */
export const insertedFirst = async (insert: () => Promise<unknown>): Promise<boolean> => {
  try {
    await insert();
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
};
