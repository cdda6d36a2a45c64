import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeletionRequest_ConfirmationMethod as Method,
  DeletionRequest_State as State,
} from '../../src/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('confirmation by one-time code', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '3600' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const requested = async () => {
    const subjectId = newSubjectId();
    await t.seedAccount({ id: subjectId });
    const cast = await castFor(subjectId);
    const since = t.smtp.messages.length;
    const created = await t.client.requestDeletion({ subjectId }, cast.self);
    const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
    return { subjectId, cast, created, code };
  };

  const wrong = (code: string): string => (code === '000000' ? '000001' : '000000');

  it('sends a 6-digit code and stores only a keyed hash of it', async () => {
    const { created, code } = await requested();
    expect(code).toMatch(/^\d{6}$/);
    const id = created.name.split('/')[1]!;

    const raw = await t.app.connection
      .collection<{ verification?: { codeHash: string } }>('deletion_requests')
      .findOne({ _id: id as never });

    expect(JSON.stringify(raw)).not.toContain(code);
    expect(raw?.verification?.codeHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a code after its 10 minutes', async () => {
    const { cast, created, code } = await requested();
    t.clock.advance(10 * 60_000 + 1);
    try {
      const error = await callError(
        t.client.confirmDeletion({ name: created.name, code }, cast.self),
      );
      expect(error.code).toBe(9);
      expect(error.reason).toBe('CODE_EXPIRED');
    } finally {
      t.clock.advance(-(10 * 60_000 + 1));
    }
  });

  it('accepts a code once only: a second use changes nothing', async () => {
    const { cast, created, code } = await requested();
    const confirmed = await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    expect(confirmed.confirmationMethod).toBe(Method.CONFIRMATION_METHOD_ONE_TIME_CODE);

    // The confirming caller's retry (its answer lost) is answered with the request as it is.
    const retried = await t.client.confirmDeletion({ name: created.name, code }, cast.self);
    const again = await callError(
      t.client.confirmDeletion({ name: created.name, code }, cast.service),
    );

    expect({ etag: retried.etag, history: retried.history }).toEqual({
      etag: confirmed.etag,
      history: confirmed.history,
    });
    expect(again.reason).toBe('INVALID_STATE');
  });

  it("refuses one request's code on another request", async () => {
    const a = await requested();
    const b = await requested();

    const crossed = await callError(
      t.client.confirmDeletion({ name: b.created.name, code: a.code }, b.cast.service),
    );

    expect(crossed.code).toBe(3);
    expect(crossed.reason).toBe('CODE_INVALID');
    expect((await t.client.getDeletionRequest({ name: b.created.name }, b.cast.self)).state).toBe(
      State.STATE_REQUESTED,
    );
  });

  it('allows 5 wrong tries under 50 concurrent guesses, then ends the request; even the right code fails', async () => {
    const { subjectId, cast, created, code } = await requested();

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        t.client.confirmDeletion({ name: created.name, code: wrong(code) }, cast.self),
      ),
    );

    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as { reason: string }).reason : 'OK',
    );
    expect(reasons.filter((r) => r === 'CODE_INVALID')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'TOO_MANY_ATTEMPTS')).toHaveLength(45);
    const locked = await callError(
      t.client.confirmDeletion({ name: created.name, code }, cast.self),
    );
    expect(['TOO_MANY_ATTEMPTS', 'INVALID_STATE']).toContain(locked.reason);
    const ended = await t.client.getDeletionRequest({ name: created.name }, cast.self);
    expect(ended.state).toBe(State.STATE_EXPIRED);
    expect(ended.history.at(-1)?.note).toBe('TOO_MANY_ATTEMPTS');
    const fresh = await t.client.requestDeletion({ subjectId }, cast.self);
    expect(fresh.state).toBe(State.STATE_REQUESTED);
  });

  it('accepts the right code after fewer than 5 wrong ones', async () => {
    const { cast, created, code } = await requested();
    for (let i = 0; i < 4; i += 1) {
      await callError(
        t.client.confirmDeletion({ name: created.name, code: wrong(code) }, cast.self),
      );
    }

    const confirmed = await t.client.confirmDeletion({ name: created.name, code }, cast.self);

    expect(confirmed.state).toBe(State.STATE_SCHEDULED);
  });

  it('accepts a fresh multi-factor step-up token of the subject instead of a code', async () => {
    const { subjectId, created } = await requested();
    const stepUp = {
      token: await mintToken({
        sub: subjectId,
        scope: 'deletion:self',
        amr: ['pwd', 'mfa'],
        authTime: new Date(),
      }),
    };

    const confirmed = await t.client.confirmDeletion({ name: created.name }, stepUp);

    expect(confirmed.confirmationMethod).toBe(Method.CONFIRMATION_METHOD_STEP_UP);
    expect(confirmed.state).toBe(State.STATE_SCHEDULED);
  });

  it('refuses a stale or single-factor step-up, and a step-up by anyone but the subject', async () => {
    const { subjectId, cast, created } = await requested();
    const stale = await mintToken({
      sub: subjectId,
      scope: 'deletion:self',
      amr: ['mfa'],
      authTime: new Date(Date.now() - 6 * 60_000),
    });
    const singleFactor = await mintToken({
      sub: subjectId,
      scope: 'deletion:self',
      amr: ['pwd'],
      authTime: new Date(),
    });
    const service = await mintToken({
      sub: 'svc',
      scope: 'deletion:request',
      service: true,
      amr: ['mfa'],
      authTime: new Date(),
    });

    for (const token of [stale, singleFactor, service]) {
      const error = await callError(t.client.confirmDeletion({ name: created.name }, { token }));
      expect(error.reason).toBe('STEP_UP_REQUIRED');
    }
    expect((await t.client.getDeletionRequest({ name: created.name }, cast.self)).state).toBe(
      State.STATE_REQUESTED,
    );
  });
});
