import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { castFor, newSubjectId, type Cast } from '../support/principals.js';
import {
  refusal,
  scenarioClient,
  type Resource,
  type ScenarioClient,
  type Transport,
} from '../support/scenario-clients.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type SeedAccount, type TestApp } from '../support/test-app.js';

/**
 * The lifecycle scenarios of the service, written once and run over both
 * clients (`clients/grpc` and `clients/trpc`) against the same running
 * service: each must pass identically over both.
 */
interface World {
  readonly t: TestApp;
  readonly api: ScenarioClient;
  /** Seeds an account and asks for its deletion as the subject; the code comes by SMTP. */
  readonly requested: (
    account?: Partial<SeedAccount>,
  ) => Promise<{ subjectId: string; cast: Cast; created: Resource; code: string }>;
  readonly mailsTo: (subjectId: string) => number;
}

interface Scenario {
  readonly name: string;
  /** The grace period the scenario needs: none (purge at once) or one day. */
  readonly grace: 'none' | 'day';
  readonly run: (world: World) => Promise<void>;
}

const DAY = 86_400_000;

const scenarios: readonly Scenario[] = [
  {
    name: 'answers a confirm retried by the same caller with the request, and settles its account',
    grace: 'day',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created, code } = await requested();
      const confirmed = await api.confirm({ name: created.name, code }, cast.self);
      // As if the database went away after the write: the account was never suspended.
      await t.app.connection
        .collection('accounts')
        .updateOne({ _id: subjectId as never }, { $set: { status: 'ACTIVE' } });
      await t.app.connection
        .collection('deletion_requests')
        .updateOne(
          { _id: created.name.split('/')[1] as never },
          { $set: { accountSynced: false } },
        );

      const retried = await api.confirm({ name: created.name, code }, cast.self);

      expect(retried.state).toBe('SCHEDULED');
      expect(retried.history).toEqual(confirmed.history);
      expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
      const other = await refusal(api.confirm({ name: created.name, code }, cast.service));
      expect(other.reason).toBe('INVALID_STATE');
    },
  },
  {
    name: 'answers approve, reject, cancel and undelete retried by the same caller with the request',
    grace: 'day',
    run: async ({ api, requested }) => {
      const approving = await requested({ roles: ['admin'] });
      await api.confirm(
        { name: approving.created.name, code: approving.code },
        approving.cast.self,
      );
      const approved = await api.approve({ name: approving.created.name }, approving.cast.approver);
      // The retry carries the etag the caller sent the first time.
      const again = await api.approve(
        { name: approving.created.name, etag: approved.etag },
        approving.cast.approver,
      );
      expect(again.state).toBe('SCHEDULED');
      const second = await refusal(
        api.approve({ name: approving.created.name }, approving.cast.secondApprover),
      );
      expect(second.reason).toBe('INVALID_STATE');
      const restored = await api.undelete({ name: approving.created.name }, approving.cast.self);
      expect(
        (await api.undelete({ name: approving.created.name }, approving.cast.self)).state,
      ).toBe(restored.state);

      const rejecting = await requested({ roles: ['admin'] });
      await api.confirm(
        { name: rejecting.created.name, code: rejecting.code },
        rejecting.cast.self,
      );
      const reject = { name: rejecting.created.name, reason: 'owner of a live org' };
      await api.reject(reject, rejecting.cast.approver);
      expect((await api.reject(reject, rejecting.cast.approver)).state).toBe('REJECTED');

      const cancelling = await requested();
      await api.cancel({ name: cancelling.created.name }, cancelling.cast.self);
      const cancelled = await api.cancel({ name: cancelling.created.name }, cancelling.cast.self);
      expect(cancelled.state).toBe('CANCELLED');
      expect(cancelled.history).toHaveLength(1);
    },
  },
  {
    name: 'erases the account, its sessions and tokens, and completes',
    grace: 'none',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created, code } = await requested({ sessions: 3, tokens: 2 });
      expect(created.state).toBe('REQUESTED');
      expect(created.name).toMatch(/^deletionRequests\/[a-z0-9-]+$/);
      expect(created.legalDeadline).toBeGreaterThan(created.createTime);

      const confirmed = await api.confirm({ name: created.name, code }, cast.self);

      expect(confirmed.state).toBe('SCHEDULED');
      expect(confirmed.purgeTime).toBe(confirmed.deleteTime);
      expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
      expect(await t.count('sessions', { subjectId })).toBe(0);
      await t.app.runWorkerPass();
      const done = await api.get({ name: created.name }, cast.self);
      expect(done.state).toBe('COMPLETED');
      expect(done.completeTime).not.toBeNull();
      expect(done.history.map((change) => change.to)).toEqual([
        'SCHEDULED',
        'ERASING',
        'COMPLETED',
      ]);
      expect(await t.count('accounts', { _id: subjectId })).toBe(0);
      expect(await t.count('api_tokens', { subjectId })).toBe(0);
    },
  },
  {
    name: 'cancels a request before it is confirmed, leaving the account untouched',
    grace: 'none',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created } = await requested();

      const cancelled = await api.cancel({ name: created.name, etag: created.etag }, cast.self);

      expect(cancelled.state).toBe('CANCELLED');
      expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
      expect(await t.count('sessions', { subjectId })).toBe(2);
      expect((await api.request({ subjectId }, cast.self)).state).toBe('REQUESTED');
    },
  },
  {
    name: 'refuses undelete once erasing has started',
    grace: 'none',
    run: async ({ t, api, requested }) => {
      const { cast, created, code } = await requested();
      await api.confirm({ name: created.name, code }, cast.self);
      await t.app.runWorkerPass();

      const error = await refusal(api.undelete({ name: created.name }, cast.self));

      expect([error.status, error.reason]).toEqual(['FAILED_PRECONDITION', 'INVALID_STATE']);
    },
  },
  {
    name: 'keeps one active request per subject and names it',
    grace: 'none',
    run: async ({ api, requested }) => {
      const { subjectId, cast, created } = await requested();

      const error = await refusal(api.request({ subjectId }, cast.service));

      expect([error.status, error.reason]).toEqual(['ALREADY_EXISTS', 'DELETION_ALREADY_ACTIVE']);
      expect(error.metadata.deletionRequest).toBe(created.name);
    },
  },
  {
    name: 'restores the account during the grace period; revoked sessions stay revoked',
    grace: 'day',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created, code } = await requested({ sessions: 2 });
      const scheduled = await api.confirm({ name: created.name, code }, cast.self);
      expect((scheduled.purgeTime ?? 0) - (scheduled.deleteTime ?? 0)).toBe(DAY);
      await t.app.runWorkerPass();
      expect((await api.get({ name: created.name }, cast.self)).state).toBe('SCHEDULED');

      const restored = await api.undelete({ name: created.name, etag: scheduled.etag }, cast.self);

      expect(restored.state).toBe('RESTORED');
      expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
      expect(await t.count('sessions', { subjectId })).toBe(0);
      await t.app.runWorkerPass();
      expect(await t.count('accounts', { _id: subjectId })).toBe(1);
    },
  },
  {
    name: 'refuses undelete after the grace period is over',
    grace: 'day',
    run: async ({ t, api, requested }) => {
      const { cast, created, code } = await requested();
      await api.confirm({ name: created.name, code }, cast.self);
      t.clock.advance(DAY + 1000);
      try {
        const error = await refusal(api.undelete({ name: created.name }, cast.self));

        expect([error.status, error.reason]).toEqual(['FAILED_PRECONDITION', 'GRACE_PERIOD_OVER']);
      } finally {
        t.clock.advance(-(DAY + 1000));
      }
    },
  },
  {
    name: 'expires requests that are not confirmed in time',
    grace: 'day',
    run: async ({ t, api, requested }) => {
      const { cast, created, code } = await requested();
      t.clock.advance(10 * 60_000 + 1000);
      try {
        const pass = await t.app.runWorkerPass();

        expect(pass.expired).toBeGreaterThanOrEqual(1);
        expect((await api.get({ name: created.name }, cast.self)).state).toBe('EXPIRED');
        const late = await refusal(api.confirm({ name: created.name, code }, cast.self));
        expect(late.reason).toBe('INVALID_STATE');
      } finally {
        t.clock.advance(-(10 * 60_000 + 1000));
      }
    },
  },
  {
    name: 'answers a retry with the same request_id with the same response and one email',
    grace: 'none',
    run: async ({ t, api, mailsTo }) => {
      const subjectId = newSubjectId();
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const requestId = randomUUID();

      const first = await api.request({ subjectId, reason: 'gdpr', requestId }, cast.service);
      const second = await api.request({ subjectId, reason: 'gdpr', requestId }, cast.service);

      expect(second).toEqual(first);
      expect(await t.count('deletion_requests', { subjectId })).toBe(1);
      await t.smtp.waitForCode(t.emailOf(subjectId));
      expect(mailsTo(subjectId)).toBe(1);
    },
  },
  {
    name: 'refuses a reused request_id with other parameters',
    grace: 'none',
    run: async ({ t, api }) => {
      const [subjectId, other] = [newSubjectId(), newSubjectId()];
      await t.seedAccount({ id: subjectId });
      await t.seedAccount({ id: other });
      const cast = await castFor(subjectId);
      const requestId = randomUUID();
      await api.request({ subjectId, requestId }, cast.service);

      const error = await refusal(api.request({ subjectId: other, requestId }, cast.service));

      expect([error.status, error.reason]).toEqual(['INVALID_ARGUMENT', 'REQUEST_ID_REUSED']);
      expect(error.fields).toEqual(['requestId']);
      expect(await t.count('deletion_requests', { subjectId: other })).toBe(0);
    },
  },
  {
    name: 'scopes request_id per caller',
    grace: 'none',
    run: async ({ t, api }) => {
      const subjectId = newSubjectId();
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const requestId = randomUUID();
      await api.request({ subjectId, requestId }, cast.service);

      const error = await refusal(api.request({ subjectId, requestId }, cast.admin));

      expect(error.reason).toBe('DELETION_ALREADY_ACTIVE');
    },
  },
  {
    name: 'creates exactly one request and one email from 50 concurrent duplicates',
    grace: 'none',
    run: async ({ t, api, mailsTo }) => {
      const subjectId = newSubjectId();
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const requestId = randomUUID();

      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () =>
          api.request({ subjectId, reason: 'x', requestId }, cast.service),
        ),
      );

      const names = new Set(
        results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.name] : [])),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(names.size).toBe(1);
      expect(await t.count('deletion_requests', { subjectId })).toBe(1);
      await t.smtp.waitForCode(t.emailOf(subjectId));
      expect(mailsTo(subjectId)).toBe(1);
    },
  },
  {
    name: 'allows one active request from 20 concurrent requests without request_id',
    grace: 'none',
    run: async ({ t, api }) => {
      const subjectId = newSubjectId();
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);

      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => api.request({ subjectId }, cast.self)),
      );

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused.map((r) => (r.reason as { reason: string }).reason)).toEqual(
        Array.from({ length: 19 }, () => 'DELETION_ALREADY_ACTIVE'),
      );
      expect(await t.count('deletion_requests', { subjectId })).toBe(1);
    },
  },
  {
    name: 'routes a privileged subject to approval, and erases once a second person approves',
    grace: 'none',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created, code } = await requested({ roles: ['admin'] });
      const confirmed = await api.confirm({ name: created.name, code }, cast.self);
      expect(created.riskReasons).toEqual(['SUBJECT_PRIVILEGED_ROLE']);
      expect(confirmed.state).toBe('AWAITING_APPROVAL');
      expect(await t.accountStatus(subjectId)).toBe('ACTIVE');

      const approved = await api.approve(
        { name: created.name, etag: confirmed.etag },
        cast.approver,
      );

      expect(approved.state).toBe('SCHEDULED');
      expect(approved.reviewer).toEqual({ kind: 'USER', id: 'approver-ada' });
      expect(await t.accountStatus(subjectId)).toBe('DEACTIVATED');
      await t.app.runWorkerPass();
      expect((await api.get({ name: created.name }, cast.self)).state).toBe('COMPLETED');
    },
  },
  {
    name: 'rejects a request; the account stays active and it cannot be approved after',
    grace: 'none',
    run: async ({ t, api, requested }) => {
      const { subjectId, cast, created, code } = await requested({ roles: ['admin'] });
      await api.confirm({ name: created.name, code }, cast.self);

      const rejected = await api.reject(
        { name: created.name, reason: 'owner of a live org' },
        cast.approver,
      );

      expect(rejected.state).toBe('REJECTED');
      expect(rejected.reviewNote).toBe('owner of a live org');
      expect(await t.accountStatus(subjectId)).toBe('ACTIVE');
      const late = await refusal(api.approve({ name: created.name }, cast.secondApprover));
      expect(late.reason).toBe('INVALID_STATE');
    },
  },
  {
    name: 'refuses approval by the requester, even one holding the approve scope',
    grace: 'none',
    run: async ({ t, api }) => {
      const subjectId = newSubjectId('target');
      await t.seedAccount({ id: subjectId });
      const cast = await castFor(subjectId);
      const requester = {
        token: await mintToken({
          sub: 'support-agent-1',
          scope: 'deletion:request deletion:approve',
        }),
      };
      const since = t.smtp.messages.length;
      const created = await api.request({ subjectId }, requester);
      expect(created.riskReasons).toEqual(['REQUESTED_BY_OTHER']);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
      await api.confirm({ name: created.name, code }, cast.self);

      const error = await refusal(api.approve({ name: created.name }, requester));

      expect([error.status, error.reason]).toEqual(['PERMISSION_DENIED', 'SELF_APPROVAL']);
      expect((await api.get({ name: created.name }, cast.approver)).state).toBe(
        'AWAITING_APPROVAL',
      );
    },
  },
  {
    name: 'refuses approval by the subject, even one holding the approve scope',
    grace: 'none',
    run: async ({ t, api }) => {
      const subjectId = newSubjectId('approver');
      await t.seedAccount({ id: subjectId, roles: ['owner'] });
      const both = {
        token: await mintToken({ sub: subjectId, scope: 'deletion:self deletion:approve' }),
      };
      const since = t.smtp.messages.length;
      const created = await api.request({ subjectId }, both);
      const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
      await api.confirm({ name: created.name, code }, both);

      const error = await refusal(api.approve({ name: created.name }, both));

      expect(error.reason).toBe('SELF_APPROVAL');
    },
  },
  {
    name: 'refuses an approval with a stale etag',
    grace: 'none',
    run: async ({ api, requested }) => {
      const { cast, created, code } = await requested({ roles: ['owner'] });
      await api.confirm({ name: created.name, code }, cast.self);

      const error = await refusal(
        api.approve({ name: created.name, etag: created.etag }, cast.approver),
      );

      expect([error.status, error.reason]).toEqual(['ABORTED', 'ETAG_MISMATCH']);
    },
  },
  {
    name: 'lets only one of two racing reviewers decide',
    grace: 'none',
    run: async ({ api, requested }) => {
      const { cast, created, code } = await requested({ roles: ['admin'] });
      await api.confirm({ name: created.name, code }, cast.self);

      const results = await Promise.allSettled([
        api.approve({ name: created.name }, cast.approver),
        api.reject({ name: created.name, reason: 'no' }, cast.secondApprover),
      ]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const final = await api.get({ name: created.name }, cast.approver);
      expect(final.history.filter((change) => change.from === 'AWAITING_APPROVAL')).toHaveLength(1);
    },
  },
  {
    name: 'lists a subject’s requests newest first, a page at a time',
    grace: 'none',
    run: async ({ api, requested }) => {
      const first = await requested();
      const { subjectId, cast } = first;
      const names = [first.created.name];
      await api.cancel({ name: first.created.name }, cast.self);
      for (let i = 0; i < 2; i += 1) {
        const next = await api.request({ subjectId }, cast.self);
        names.push(next.name);
        await api.cancel({ name: next.name }, cast.self);
      }

      const page1 = await api.list({ subjectId, pageSize: 2 }, cast.self);
      const page2 = await api.list(
        { subjectId, pageSize: 2, pageToken: page1.nextPageToken },
        cast.self,
      );
      const everyone = await refusal(api.list({ pageSize: 2 }, { token: 'not-a-token' }));

      expect([...page1.names, ...page2.names]).toEqual(names.reverse());
      expect(page1.nextPageToken).not.toBe('');
      expect(page2.nextPageToken).toBe('');
      expect(everyone.status).toBe('UNAUTHENTICATED');
    },
  },
];

const transports: readonly Transport[] = ['grpc', 'trpc'];

describe('the lifecycle scenario table, over both clients', () => {
  const apps: Partial<Record<Scenario['grace'], TestApp>> = {};
  beforeAll(async () => {
    apps.none = await startTestApp({ GRACE_PERIOD_SECONDS: '0' });
    apps.day = await startTestApp({ GRACE_PERIOD_SECONDS: '86400' });
  });
  afterAll(async () => {
    await apps.none?.[Symbol.asyncDispose]();
    await apps.day?.[Symbol.asyncDispose]();
  });

  const worldOf = (transport: Transport, t: TestApp): World => {
    const api = scenarioClient(transport, t);
    return {
      t,
      api,
      mailsTo: (subjectId) =>
        t.smtp.messages.filter((message) => message.to.includes(t.emailOf(subjectId))).length,
      requested: async (account = {}) => {
        const subjectId = newSubjectId(transport);
        await t.seedAccount({ ...account, id: subjectId });
        const cast = await castFor(subjectId);
        const since = t.smtp.messages.length;
        const created = await api.request({ subjectId }, cast.self);
        const code = await t.smtp.waitForCode(t.emailOf(subjectId), since);
        return { subjectId, cast, created, code };
      },
    };
  };

  describe.each(transports)('over %s', (transport) => {
    it.each(scenarios)('$name', async (scenario) => {
      const t = apps[scenario.grace];
      if (t === undefined) throw new Error('the service did not start');
      await scenario.run(worldOf(transport, t));
    });
  });
});
