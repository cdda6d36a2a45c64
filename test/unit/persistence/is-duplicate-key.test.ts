import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { isDuplicateKey } from '../../../src/persistence/mongo/classify-mongo-error.js';

const serverError = (code: number, message: string) =>
  new mongoose.mongo.MongoServerError({ code, message, errmsg: message });

describe('isDuplicateKey: a unique index refused the write, on every server', () => {
  it.each([
    ['MongoDB and FerretDB inserts (E11000)', serverError(11000, 'E11000 duplicate key error')],
    [
      'FerretDB on SQLite, an update',
      serverError(1, '[update.go:114] UNIQUE constraint failed: things.k'),
    ],
    [
      'FerretDB on PostgreSQL, an update',
      serverError(
        1,
        'ERROR: duplicate key value violates unique constraint "things_k_idx" (SQLSTATE 23505)',
      ),
    ],
  ])('%s', (_server, error) => {
    expect(isDuplicateKey(error)).toBe(true);
  });

  it.each([
    ['another internal error', serverError(1, 'ERROR: deadlock detected (SQLSTATE 40P01)')],
    ['a serialization failure', serverError(1, 'could not serialize access (SQLSTATE 40001)')],
    ['not a server error', new Error('duplicate key value violates unique constraint')],
  ])('is false for %s', (_what, error) => {
    expect(isDuplicateKey(error)).toBe(false);
  });
});
