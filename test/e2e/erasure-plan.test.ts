import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient } from '../../clients/trpc/deletion-client.js';
import {
  erasurePlan_BlockerToJSON,
  erasurePlan_Call_ActionToJSON,
  erasurePlan_LocalErasureToJSON,
} from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { deletionRequest_StateToJSON } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { adminAuth, castFor, participantAuth } from '../support/principals.js';
import type { Transport } from '../support/scenario-clients.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const HOUR_MS = 3_600_000;

/** A plan as both transports are held to it: the domain's names, times as RFC 3339. */
interface Plan {
  readonly state: string;
  readonly blocker: string;
  readonly startTime: string | null;
  readonly calls: readonly {
    readonly participant: string;
    readonly action: string;
    readonly attempts: number;
    readonly time: string | null;
    readonly waitingFor: readonly string[];
    readonly lastErrorCode: string;
  }[];
  readonly localErasure: string;
  readonly localErasureDone: boolean;
}

const iso = (value: Date | string | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();

/** GetErasurePlan over one transport, the answer in the shape above. */
const planOver =
  (transport: Transport, t: TestApp) =>
  async (name: string, auth: { token: string }): Promise<Plan> => {
    if (transport === 'grpc') {
      const plan = await t.client.getErasurePlan({ name }, auth);
      return {
        state: deletionRequest_StateToJSON(plan.state).replace(/^STATE_/, ''),
        blocker: erasurePlan_BlockerToJSON(plan.blocker).replace(/^BLOCKER_/, ''),
        startTime: iso(plan.startTime),
        calls: plan.calls.map((call) => ({
          participant: call.participant,
          action: erasurePlan_Call_ActionToJSON(call.action).replace(/^ACTION_/, ''),
          attempts: call.attempts,
          time: iso(call.time),
          waitingFor: call.waitingFor,
          lastErrorCode: call.lastErrorCode,
        })),
        localErasure: erasurePlan_LocalErasureToJSON(plan.localErasure),
        localErasureDone: plan.localErasureDone,
      };
    }
    const client = createDeletionClient({ url: t.trpcUrl, token: auth.token });
    const plan = await client.getErasurePlan.query({ name });
    return {
      state: plan.state,
      blocker: plan.blocker,
      startTime: plan.startAt,
      calls: plan.calls.map((call) => ({ ...call, lastErrorCode: call.lastErrorCode ?? '' })),
      localErasure:
        plan.localErasure === 'first'
          ? 'LOCAL_ERASURE_FIRST'
          : 'LOCAL_ERASURE_AFTER_LINKED_SERVICES',
      localErasureDone: plan.localErasureDone,
    };
  };

const call = (participant: string, action: string, more: Partial<Plan['calls'][number]> = {}) => ({
  participant,
  action,
  attempts: 0,
  time: null,
  waitingFor: [],
  lastErrorCode: '',
  ...more,
});

describe.each<Transport>(['grpc', 'trpc'])(
  'a purge dry run (GetErasurePlan) over %s',
  (transport) => {
    let t: TestApp;
    let crm: FakeParticipant;
    let billing: FakeParticipant;
    let search: FakeParticipant;
    let plan: ReturnType<typeof planOver>;
    const reportBy = new Date(Date.now() + 48 * HOUR_MS);

    beforeAll(async () => {
      crm = await startFakeParticipant('crm');
      // Accepts, promising its answer in two days; search is called only once it answered.
      billing = await startFakeParticipant('billing', { acceptUntil: reportBy });
      search = await startFakeParticipant('search');
      t = await startTestApp({
        GRACE_PERIOD_SECONDS: '3600',
        BREAKER_LIMIT: '2',
        // The test moves the clock by hours: every start stays in the window.
        BREAKER_WINDOW_SECONDS: '86400',
        PARTICIPANTS: participantsConfig([crm, billing, search], {
          after: { search: ['billing'] },
          // A refusal is final at once: the request needs attention after one call.
          maxAttempts: 1,
        }),
      });
      plan = planOver(transport, t);
    });
    afterAll(async () => {
      await t[Symbol.asyncDispose]();
      for (const fake of [crm, billing, search]) await fake[Symbol.asyncDispose]();
    });

    it('follows one request from unconfirmed to completed, changing nothing on the way', async () => {
      const admin = await adminAuth();
      const unconfirmed = await t.requested();
      const fresh = [
        call('crm', 'CALL'),
        call('billing', 'CALL'),
        call('search', 'WAIT_FOR_ORDER', { waitingFor: ['billing'] }),
      ];
      expect(await plan(unconfirmed.name, admin)).toEqual({
        state: 'REQUESTED',
        blocker: 'NOT_CONFIRMED',
        startTime: null,
        calls: fresh,
        localErasure: 'LOCAL_ERASURE_AFTER_LINKED_SERVICES',
        localErasureDone: false,
      });

      const request = await t.scheduled();
      const purgeTime = iso(request.confirmed.purgeTime);
      expect(purgeTime).not.toBeNull();
      expect(await plan(request.name, admin)).toMatchObject({
        state: 'SCHEDULED',
        blocker: 'GRACE_PERIOD',
        startTime: purgeTime,
        calls: fresh,
      });

      // The grace period is over: a worker would start it now. Asking twice counts no start.
      t.clock.advance(HOUR_MS + 1000);
      expect(await plan(request.name, admin)).toMatchObject({ blocker: 'NONE', startTime: null });
      expect(await plan(request.name, admin)).toMatchObject({ blocker: 'NONE' });
      expect((await t.client.getSafetyStatus({}, admin)).startedInWindow).toBe(0);
      const untouched = await t.client.getDeletionRequest({ name: request.name }, admin);
      expect(untouched.etag).toBe(request.confirmed.etag);
      expect([...crm.calls, ...billing.calls, ...search.calls]).toEqual([]);

      // crm erases, billing accepts: the purge waits for billing's report; search for billing.
      await t.app.runWorkerPass();
      const waiting = await plan(request.name, admin);
      expect(waiting).toMatchObject({
        state: 'ERASING',
        blocker: 'WAITING',
        startTime: reportBy.toISOString(),
      });
      expect(waiting.calls).toEqual([
        call('crm', 'NONE_ANSWERED', { attempts: 1 }),
        call('billing', 'WAIT_FOR_REPORT', { attempts: 1, time: reportBy.toISOString() }),
        call('search', 'WAIT_FOR_ORDER', { waitingFor: ['billing'] }),
      ]);

      // billing reports: the purge is due, and would call search now.
      await t.client.reportErasureOutcome(
        {
          name: request.name,
          participant: 'billing',
          subjectId: request.subjectId,
          outcome: { $case: 'erased', value: { records: '7', categories: ['invoices'] } },
        },
        await participantAuth('billing'),
      );
      const due = await plan(request.name, admin);
      expect(due.blocker).toBe('NONE');
      expect(due.calls.map((c) => `${c.participant}:${c.action}`)).toEqual([
        'crm:NONE_ANSWERED',
        'billing:NONE_ANSWERED',
        'search:CALL',
      ]);
      expect(search.calls).toEqual([]);

      await t.app.runWorkerPass();
      const done = await plan(request.name, admin);
      expect(done).toMatchObject({ state: 'COMPLETED', blocker: 'CLOSED', localErasureDone: true });
      expect(done.calls.map((c) => c.action)).toEqual([
        'NONE_ANSWERED',
        'NONE_ANSWERED',
        'NONE_ANSWERED',
      ]);
    });

    it('names the linked service that failed, and the breaker that would trip or has', async () => {
      const admin = await adminAuth();
      billing.behaviour = { failFirst: 100, failWith: status.INVALID_ARGUMENT };
      const failing = await t.scheduled();
      t.clock.advance(HOUR_MS + 1000);
      // Second of the window's two starts (the first test's was one): admitted, then refused.
      await t.app.runWorkerPass();
      const stuck = await plan(failing.name, admin);
      expect(stuck).toMatchObject({ state: 'NEEDS_ATTENTION', blocker: 'NEEDS_ATTENTION' });
      const failed = stuck.calls.find((c) => c.participant === 'billing');
      expect(failed).toMatchObject({ action: 'NONE_FAILED', attempts: 1 });
      expect(failed?.lastErrorCode).not.toBe('');

      // The window is full: one more start would trip the breaker; a pass trips it.
      const third = await t.scheduled();
      t.clock.advance(HOUR_MS + 1000);
      expect(await plan(third.name, admin)).toMatchObject({ blocker: 'WOULD_TRIP_BREAKER' });
      expect((await t.client.getSafetyStatus({}, admin)).paused).toBe(false);
      await t.app.runWorkerPass();
      expect(await plan(third.name, admin)).toMatchObject({
        state: 'SCHEDULED',
        blocker: 'ERASURES_PAUSED',
      });
    });

    it('is for the people who run deletions, not for the subject', async () => {
      const request = await t.requested();
      const cast = await castFor(request.subjectId);
      await expect(plan(request.name, cast.self)).rejects.toThrow(/not allowed to getErasurePlan/);
      expect((await plan(request.name, cast.service)).blocker).toBe('NOT_CONFIRMED');
    });
  },
);
