import { expect } from 'vitest';
import { scopes } from '../../src/domain/principal.js';
import { snapshotDb } from './db-snapshot.js';
import type { RealIds } from './fuzz-inputs.js';
import type { RawCredentials } from './raw-grpc-client.js';
import type { TestApp } from './test-app.js';
import { mintToken } from './tokens.js';

/** Who the fuzzing calls as: every scope there is, and a subject for their own data. */
export type FuzzCaller = 'everyScope' | 'self';

/** The seeded data, the callers, and a check that nothing changed since. */
export interface FuzzTarget {
  readonly real: RealIds;
  readonly callers: Readonly<Record<FuzzCaller, RawCredentials>>;
  readonly expectNothingWritten: (label: string) => Promise<void>;
}

/**
 * Seeds real data random input may hit: a CANCELLED request (every change of
 * it is refused by its state) of a subject whose newer request is active (so a
 * new request for them is ALREADY_EXISTS). The active request's name stays out
 * of the pool: cancelling or confirming it are changes a well-formed call may
 * make. Then takes the baseline: every collection (but rate limits) and the mail.
 */
export const seedFuzzTarget = async (t: TestApp): Promise<FuzzTarget> => {
  const first = await t.requested({ prefix: 'fuzz' });
  await t.client.cancelDeletion({ name: first.name }, first.cast.self);
  const since = t.smtp.messages.length;
  await t.client.requestDeletion({ subjectId: first.subjectId }, first.cast.self);
  await t.smtp.waitForCode(t.emailOf(first.subjectId), since);
  const token = await mintToken({ sub: 'fuzz-every-scope', scope: scopes.join(' ') });
  const before = await snapshotDb(t.app.connection);
  const mailsBefore = t.smtp.messages.length;
  return {
    real: { names: [first.name], subjectIds: [first.subjectId] },
    callers: {
      everyScope: { authorization: `Bearer ${token}` },
      self: { authorization: `Bearer ${first.cast.self.token}` },
    },
    expectNothingWritten: async (label) => {
      expect(await snapshotDb(t.app.connection), `${label}: wrote to the database`).toEqual(before);
      expect(t.smtp.messages.length, `${label}: sent mail`).toBe(mailsBefore);
    },
  };
};
