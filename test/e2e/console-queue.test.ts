import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient } from '../../clients/trpc/deletion-client.js';
import {
  deletionRequest_StateFromJSON,
  deletionRequest_StateToJSON,
} from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { linkedServiceStepFromJSON } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { deletionStates } from '../../src/domain/deletion-state.js';
import { adminAuth } from '../support/principals.js';
import type { Transport } from '../support/scenario-clients.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// The operations console's reads over both transports: the list's filters, its order by
// deadline, the counts, and the linked services' health. The filters' edge cases are the contract suite's and test/unit/app's;
// who may call is the authorization matrix's.

const DAY_MS = 86_400_000;

/** A listed request as both transports can say it. */
interface Listed {
  readonly name: string;
  readonly state: string;
  readonly legalDeadline: string;
}

interface CountFilters {
  readonly jurisdiction?: 'GDPR' | 'CCPA';
  readonly linkedService?: string;
  readonly linkedServiceStep?: 'WAITING' | 'FAILED';
  readonly dueWithinDays?: number;
}

interface ListFilters {
  readonly jurisdiction?: 'GDPR' | 'CCPA';
  readonly linkedService?: string;
  readonly linkedServiceStep?: 'WAITING' | 'FAILED';
  readonly state?: 'NEEDS_ATTENTION';
  readonly deadlineBefore?: Date;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

/** A step filter as the gRPC request names it. */
const grpcStep = (step: 'WAITING' | 'FAILED' | undefined) =>
  step && { linkedServiceStep: linkedServiceStepFromJSON(`LINKED_SERVICE_STEP_${step}`) };

describe.each<Transport>(['grpc', 'trpc'])('the console queue over %s', (transport) => {
  let t: TestApp;
  let crm: FakeParticipant;
  let billing: FakeParticipant;
  let auth: { token: string };
  const requests: Record<'gdpr' | 'ccpa' | 'stuck', string> = { gdpr: '', ccpa: '', stuck: '' };

  beforeAll(async () => {
    // crm refuses the first Erase for good: the purge of `stuck` needs attention because of it.
    crm = await startFakeParticipant('crm', { failFirst: 1, failWith: status.FAILED_PRECONDITION });
    // billing accepts, to report later: the request waits on it too.
    billing = await startFakeParticipant('billing', {
      acceptUntil: new Date(Date.now() + DAY_MS),
    });
    t = await startTestApp({
      PARTICIPANTS: participantsConfig([crm, billing], { maxAttempts: 1 }),
    });
    auth = await adminAuth('admin-queue');
    requests.gdpr = (await t.requested({ prefix: 'queue-gdpr' })).name;
    requests.ccpa = (await t.requested({ prefix: 'queue-ccpa', jurisdiction: 'CCPA' })).name;
    requests.stuck = (await t.scheduled({ prefix: 'queue-stuck' })).name;
    await t.app.runWorkerPass();
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await crm[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
  });

  /** One page of ListDeletionRequests. */
  const list = async (
    filters: ListFilters,
  ): Promise<{ requests: Listed[]; nextPageToken: string }> => {
    if (transport === 'trpc') {
      const page = await createDeletionClient({
        url: t.trpcUrl,
        token: auth.token,
      }).listDeletionRequests.query(filters);
      return { requests: page.deletionRequests, nextPageToken: page.nextPageToken };
    }
    const { state, linkedServiceStep, ...rest } = filters;
    const page = await t.client.listDeletionRequests(
      {
        ...rest,
        ...(state && { state: deletionRequest_StateFromJSON(`STATE_${state}`) }),
        ...grpcStep(linkedServiceStep),
      },
      auth,
    );
    return {
      requests: page.deletionRequests.map((request) => ({
        name: request.name,
        state: deletionRequest_StateToJSON(request.state).replace('STATE_', ''),
        legalDeadline: request.legalDeadline?.toISOString() ?? '',
      })),
      nextPageToken: page.nextPageToken,
    };
  };
  const namesOf = async (filters: ListFilters) =>
    (await list(filters)).requests.map((request) => request.name);

  it('filters the queue by jurisdiction and by a linked service whose step is not finished', async () => {
    expect(await namesOf({ jurisdiction: 'CCPA' })).toEqual([requests.ccpa]);
    expect(await namesOf({ linkedService: 'crm' })).toEqual([requests.stuck]);
    expect((await list({ linkedService: 'crm' })).requests[0]?.state).toBe('NEEDS_ATTENTION');
    expect(await namesOf({ linkedService: 'crm', jurisdiction: 'CCPA' })).toEqual([]);
    // The privileged read is audited with what was asked for.
    const reads = await t.app.audit.log.list({ kind: 'PRIVILEGED_READ' }, 0, 10_000);
    const asked = reads
      .map((event) => t.app.audit.seal.open(event.sealedDetails))
      .filter((details) => details.operation === 'listDeletionRequests');
    expect(asked.at(-1)).toMatchObject({
      jurisdiction: 'CCPA',
      linkedService: 'crm',
      returned: '0',
    });
  });

  it('pages the open requests due before a time soonest deadline first', async () => {
    const deadlineBefore = new Date(Date.now() + 60 * DAY_MS);
    const seen: Listed[] = [];
    let pageToken: string | undefined;
    do {
      const page = await list({ deadlineBefore, pageSize: 1, ...(pageToken && { pageToken }) });
      seen.push(...page.requests);
      pageToken = page.nextPageToken || undefined;
    } while (pageToken !== undefined);

    expect(seen.map((request) => request.name).sort()).toEqual(
      [requests.gdpr, requests.ccpa, requests.stuck].sort(),
    );
    const deadlines = seen.map((request) => request.legalDeadline);
    expect(deadlines).toEqual([...deadlines].sort());
    // GDPR's month comes before CCPA's 45 days.
    expect(seen.at(-1)?.name).toBe(requests.ccpa);
    expect(await namesOf({ deadlineBefore: new Date(Date.now() - DAY_MS) })).toEqual([]);
  });

  /** CountDeletionRequests, in the domain's words. */
  const count = async (filters: CountFilters) => {
    if (transport === 'trpc') {
      const counts = await createDeletionClient({
        url: t.trpcUrl,
        token: auth.token,
      }).countDeletionRequests.query(filters);
      return { ...counts, countedAt: new Date(counts.countedAt) };
    }
    const { linkedServiceStep, ...rest } = filters;
    const counts = await t.client.countDeletionRequests(
      { ...rest, ...grpcStep(linkedServiceStep) },
      auth,
    );
    return {
      byState: Object.fromEntries(
        counts.stateCounts.map(({ state, count }) => [
          deletionRequest_StateToJSON(state).replace('STATE_', ''),
          Number(count),
        ]),
      ),
      pastDeadline: Number(counts.pastDeadlineCount),
      dueSoon: Number(counts.dueSoonCount),
      dueWithinDays: counts.dueWithinDays,
      countedAt: counts.countTime,
    };
  };

  it('counts the queue by state, every state named, and the open requests by deadline', async () => {
    const none = Object.fromEntries(deletionStates.map((state) => [state, 0]));
    const all = await count({});
    expect(all).toEqual({
      byState: { ...none, REQUESTED: 2, NEEDS_ATTENTION: 1 },
      pastDeadline: 0,
      dueSoon: 0,
      dueWithinDays: 7,
      countedAt: expect.any(Date) as Date,
    });
    // Every open request is due within 60 days: GDPR's month, CCPA's 45 days.
    expect(await count({ dueWithinDays: 60 })).toMatchObject({ dueSoon: 3, dueWithinDays: 60 });
    expect(await count({ jurisdiction: 'CCPA' })).toMatchObject({
      byState: { ...none, REQUESTED: 1 },
    });
    expect(await count({ linkedService: 'crm' })).toMatchObject({
      byState: { ...none, NEEDS_ATTENTION: 1 },
    });
  });

  /** GetLinkedServiceHealth, in the domain's words (latencies in milliseconds). */
  const health = async () => {
    if (transport === 'trpc')
      return (
        await createDeletionClient({
          url: t.trpcUrl,
          token: auth.token,
        }).getLinkedServiceHealth.query()
      ).linkedServices;
    const millis = (duration?: { seconds: string; nanos: number }) =>
      duration && Number(duration.seconds) * 1000 + duration.nanos / 1e6;
    return (await t.client.getLinkedServiceHealth({}, auth)).linkedServices.map((service) => ({
      name: service.name,
      waiting: Number(service.waitingCount),
      needingAttention: Number(service.attentionCount),
      recentCalls: {
        windowMs: millis(service.recentCalls?.window),
        calls: Number(service.recentCalls?.callCount),
        failures: Number(service.recentCalls?.failureCount),
        p50Ms: millis(service.recentCalls?.latencyP50) ?? null,
        p95Ms: millis(service.recentCalls?.latencyP95) ?? null,
      },
    }));
  };

  it('tells per linked service what waits on it, what failed there, and this replica’s recent calls', async () => {
    const [crmHealth, billingHealth] = await health();
    const recent = { windowMs: 15 * 60_000, calls: 1 };
    expect(crmHealth).toMatchObject({
      name: 'crm',
      waiting: 0,
      needingAttention: 1,
      recentCalls: { ...recent, failures: 1 },
    });
    expect(billingHealth).toMatchObject({
      name: 'billing',
      waiting: 1,
      needingAttention: 0,
      recentCalls: { ...recent, failures: 0 },
    });
    for (const service of [crmHealth, billingHealth]) {
      const p50 = service?.recentCalls.p50Ms ?? null;
      expect(p50).toBeGreaterThan(0);
      expect(service?.recentCalls.p95Ms).toBeGreaterThanOrEqual(p50 ?? Infinity);
    }
  });

  it('lists under each health count exactly the requests it counts', async () => {
    const services = await health();
    expect(services.map((service) => service.name)).toEqual(['crm', 'billing']);
    for (const service of services) {
      const failed = await namesOf({
        linkedService: service.name,
        linkedServiceStep: 'FAILED',
        state: 'NEEDS_ATTENTION',
      });
      const waiting = await namesOf({ linkedService: service.name, linkedServiceStep: 'WAITING' });
      expect(failed).toHaveLength(service.needingAttention);
      expect(waiting).toHaveLength(service.waiting);
    }
    // `stuck` needs attention because crm failed; billing's step there still waits.
    expect(
      await namesOf({
        linkedService: 'billing',
        linkedServiceStep: 'FAILED',
        state: 'NEEDS_ATTENTION',
      }),
    ).toEqual([]);
    expect(await namesOf({ linkedService: 'billing', linkedServiceStep: 'WAITING' })).toEqual([
      requests.stuck,
    ]);
    expect(await namesOf({ linkedService: 'crm', linkedServiceStep: 'WAITING' })).toEqual([]);
    expect(await namesOf({ linkedService: 'crm', linkedServiceStep: 'FAILED' })).toEqual([
      requests.stuck,
    ]);
    // The privileged read is audited with the step asked for.
    const reads = await t.app.audit.log.list({ kind: 'PRIVILEGED_READ' }, 0, 10_000);
    const asked = reads
      .map((event) => t.app.audit.seal.open(event.sealedDetails))
      .filter((details) => details.operation === 'listDeletionRequests');
    expect(asked.at(-1)).toMatchObject({ linkedService: 'crm', linkedServiceStep: 'FAILED' });
  });

  it('counts the queue under a step filter as the list takes it', async () => {
    const none = Object.fromEntries(deletionStates.map((state) => [state, 0]));
    expect(await count({ linkedService: 'billing', linkedServiceStep: 'WAITING' })).toMatchObject({
      byState: { ...none, NEEDS_ATTENTION: 1 },
    });
    expect(await count({ linkedService: 'billing', linkedServiceStep: 'FAILED' })).toMatchObject({
      byState: none,
    });
  });

  it('refuses a step filter without a linked service', async () => {
    await expect(list({ linkedServiceStep: 'FAILED' })).rejects.toMatchObject(
      transport === 'grpc' ? { code: status.INVALID_ARGUMENT } : { data: { code: 'BAD_REQUEST' } },
    );
  });

  // Last: it moves the service's clock on.
  it('reads the recent calls by the service’s clock, as it reads readAt', async () => {
    t.clock.advance(15 * 60_000 + 1);
    for (const service of await health())
      expect(service.recentCalls).toMatchObject({ windowMs: 15 * 60_000, calls: 0 });
  });
});
