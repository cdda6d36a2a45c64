import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionRequest_State as State } from '../../src/gen/deletion/v1/deletion_request.js';
import {
  CallError,
  callError,
  createTestClient,
  type TestClient,
} from '../support/grpc-test-client.js';
import { castFor, newSubjectId, type Cast } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The per-subject budget of code attempts (the default, ASVS's 100 an hour). */
const LIMIT = 100;
const STREAMS = 50;
/** About 25 s each on an idle two-core machine; room for a busy one. */
const SLOW_MS = 180_000;

/** What the guesses got back. `spent` answers cost a point of the subject's budget. */
interface Tally {
  /** Compared with a code and found wrong (`CODE_INVALID`). */
  checked: number;
  /** Refused by the request's own attempt limit (`TOO_MANY_ATTEMPTS`) after spending a point. */
  locked: number;
  /** Refused by the subject's budget (`RATE_LIMITED`), nothing compared. */
  limited: number;
}

interface Target {
  readonly name: string;
  readonly code: string;
}

/** A code that is not `code`: the last digit moved on. */
const wrongFor = (code: string): string =>
  `${code.slice(0, -1)}${String((Number(code.slice(-1)) + 1) % 10)}`;

/**
 * One attacker against one subject: guesses wrong codes for the subject's open
 * request and, when the request locks (its own attempt limit), opens a fresh
 * one (each request has its own code). Requests are opened on replica `a`,
 * whose mail sink receives the codes.
 */
const attack = (a: TestApp, subjectId: string, cast: Cast) => {
  const tally: Tally = { checked: 0, locked: 0, limited: 0 };
  const open = async (previous?: Target): Promise<Target> => {
    const since = a.smtp.messages.length;
    try {
      const created = await a.client.requestDeletion({ subjectId }, cast.self);
      return { name: created.name, code: await a.smtp.waitForCode(a.emailOf(subjectId), since) };
    } catch (error) {
      // The lock of the previous request lost a race and is redone by the next guess at it.
      if (previous && error instanceof CallError && error.reason === 'DELETION_ALREADY_ACTIVE')
        return previous;
      throw error;
    }
  };
  let current = open();
  const renew = (seen: Promise<Target>, target: Target): void => {
    if (current === seen) current = open(target);
  };
  const guess = async (client: TestClient): Promise<void> => {
    for (;;) {
      const seen = current;
      const target = await seen;
      const error = await callError(
        client.confirmDeletion({ name: target.name, code: wrongFor(target.code) }, cast.self),
      );
      if (error.reason === 'CODE_INVALID') tally.checked += 1;
      else if (error.reason === 'RATE_LIMITED') tally.limited += 1;
      else if (error.reason === 'TOO_MANY_ATTEMPTS') tally.locked += 1;
      // Closed by a concurrent lock: nothing was spent; guess again at the fresh request.
      else if (error.reason !== 'INVALID_STATE') throw error;
      if (error.reason === 'TOO_MANY_ATTEMPTS' || error.reason === 'INVALID_STATE')
        renew(seen, target);
      if (error.reason !== 'INVALID_STATE') return;
    }
  };
  /** `count` guesses over `streams` concurrent callers, alternating between the clients. */
  const guesses = async (
    clients: readonly TestClient[],
    count: number,
    streams: number,
  ): Promise<void> => {
    let left = count;
    await Promise.all(
      Array.from({ length: streams }, async (_, stream) => {
        const client = clients[stream % clients.length];
        if (!client) throw new Error('no client');
        while (left > 0) {
          left -= 1;
          await guess(client);
        }
      }),
    );
  };
  /** A fresh open request (whatever the current one is) and its right code. */
  const fresh = async (): Promise<Target> => {
    const { name } = await current;
    await a.client.cancelDeletion({ name }, cast.self).catch(() => undefined);
    current = open();
    return current;
  };
  return { tally, guesses, fresh };
};

describe('one-time code brute force against one subject, on two replicas', () => {
  let a: TestApp;
  let b: TestApp;
  /** Guessing clients, one per replica: 50 concurrent confirms queue up on FerretDB, so a long deadline. */
  let guessers: TestClient[];
  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({ MONGODB_DB: a.dbName });
    guessers = [a, b].map((t) =>
      createTestClient(`127.0.0.1:${String(t.ports.grpc)}`, { deadlineMs: 60_000 }),
    );
  });
  afterAll(async () => {
    for (const client of guessers) client.close();
    await b[Symbol.asyncDispose]();
    await a[Symbol.asyncDispose]();
  });

  const refusesTheRightCode = async (
    attacker: ReturnType<typeof attack>,
    cast: Cast,
  ): Promise<void> => {
    const { name, code } = await attacker.fresh();
    const refused = await callError(b.client.confirmDeletion({ name, code }, cast.self));
    expect(refused.reason).toBe('RATE_LIMITED');
    expect(refused.rich?.retryDelayMs).toBeGreaterThan(0);
    expect((await a.client.getDeletionRequest({ name }, cast.self)).state).toBe(
      State.STATE_REQUESTED,
    );
  };

  /**
   * Of `total` guesses, exactly the budget was spent (checked against a code,
   * or refused by a request's own attempt lock), every other one was refused
   * as rate-limited, and the right code is refused now too.
   */
  const expectBudgetHeld = async (
    attacker: ReturnType<typeof attack>,
    cast: Cast,
    total: number,
  ): Promise<void> => {
    const { checked, locked, limited } = attacker.tally;
    expect(checked).toBeLessThanOrEqual(LIMIT);
    expect(checked + locked).toBe(LIMIT);
    expect(limited).toBe(total - LIMIT);
    await refusesTheRightCode(attacker, cast);
  };

  it(
    '200 wrong guesses in a row, then 200 from 50 concurrent callers: never more than the limit checked',
    async () => {
      const subjectId = newSubjectId('brute');
      await a.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const attacker = attack(a, subjectId, cast);

      await attacker.guesses(guessers, 200, 1);
      expect(attacker.tally.checked + attacker.tally.locked).toBe(LIMIT);
      await attacker.guesses(guessers, 200, STREAMS);

      await expectBudgetHeld(attacker, cast, 400);
    },
    SLOW_MS,
  );

  it(
    '200 guesses from 50 concurrent callers at once: the budget holds exactly under the race',
    async () => {
      const subjectId = newSubjectId('race');
      await a.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const attacker = attack(a, subjectId, cast);

      await attacker.guesses(guessers, 200, STREAMS);

      await expectBudgetHeld(attacker, cast, 200);
    },
    SLOW_MS,
  );
});
