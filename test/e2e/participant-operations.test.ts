import { AuditEventKind } from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DeletionRequest_State as State,
  ParticipantProgress_Status as Step,
} from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { callError } from '../support/grpc-test-client.js';
import {
  startFakeParticipant,
  participantsConfig,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { mintToken } from '../support/tokens.js';
import { trpcFailure } from '../support/trpc-failure.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('operating on linked-service steps: report, retry, resolve', () => {
  const open: AsyncDisposable[] = [];
  afterEach(async () => {
    for (const resource of open.splice(0).reverse()) await resource[Symbol.asyncDispose]();
  });

  const setUp = async (
    behaviour: Parameters<typeof startFakeParticipant>[1],
    registration: Parameters<typeof participantsConfig>[1] = {},
  ) => {
    const fake: FakeParticipant = await startFakeParticipant('svc-0', behaviour);
    open.push(fake);
    const t: TestApp = await startTestApp({
      GRACE_PERIOD_SECONDS: '0',
      PARTICIPANTS: participantsConfig([fake], { maxAttempts: 2, ...registration }),
      RETRY_BASE_MS: '1',
      RETRY_CAP_MS: '1',
    });
    open.push(t);
    const { subjectId, cast, name } = await t.scheduled();
    const participant = {
      token: await mintToken({ sub: 'svc-0', scope: 'deletion:participant', service: true }),
    };
    return { fake, t, subjectId, cast, name, participant };
  };

  const passes = async (t: TestApp, count: number) => {
    for (let i = 0; i < count; i += 1) {
      await t.app.runWorkerPass();
      t.clock.advance(10);
    }
  };

  it('completes an ACCEPTED erasure once the service reports its outcome', async () => {
    const { fake, t, subjectId, cast, name, participant } = await setUp({});
    fake.behaviour = { acceptUntil: new Date(Date.now() + 3_600_000) };
    await passes(t, 1);
    const waiting = await t.client.getDeletionRequest({ name }, cast.self);
    expect(waiting.state).toBe(State.STATE_ERASING);
    expect(waiting.participants[0]).toMatchObject({
      participant: 'svc-0',
      status: Step.STATUS_ACCEPTED,
    });

    await t.client.reportErasureOutcome(
      {
        name,
        participant: 'svc-0',
        subjectId,
        outcome: { $case: 'erased', value: { records: '12', categories: ['messages'] } },
      },
      participant,
    );
    await passes(t, 1);

    const done = await t.client.getDeletionRequest({ name }, cast.self);
    expect(done.state).toBe(State.STATE_COMPLETED);
    expect(done.participants[0]).toMatchObject({
      status: Step.STATUS_DONE,
      outcome: 'ERASED',
      records: '12',
    });
    expect(fake.calls).toHaveLength(1);
  });

  it('gives a service registered for pseudonyms only the pseudonym, and takes its report only with it', async () => {
    const { fake, t, subjectId, cast, name, participant } = await setUp(
      {},
      { pseudonymous: ['svc-0'], phases: ['suspend', 'restore', 'erase'] },
    );
    fake.behaviour = { acceptUntil: new Date(Date.now() + 3_600_000) };
    await passes(t, 1);
    expect(fake.notices).toHaveLength(1); // Suspend at soft delete, then Erase
    expect(fake.calls).toHaveLength(1);
    const [pseudonym] = new Set(fake.subjectIds);
    expect(new Set(fake.subjectIds).size).toBe(1);
    expect(pseudonym).toMatch(/^psn_/);
    expect(pseudonym).not.toContain(subjectId);
    const report = (id: string) =>
      t.client.reportErasureOutcome(
        {
          name,
          participant: 'svc-0',
          subjectId: id,
          outcome: { $case: 'nothingFound', value: {} },
        },
        participant,
      );

    expect((await callError(report(subjectId))).reason).toBe('SUBJECT_MISMATCH');
    await report(pseudonym!);
    await passes(t, 1);
    expect((await t.client.getDeletionRequest({ name }, cast.self)).state).toBe(
      State.STATE_COMPLETED,
    );
  });

  it('refuses a report before the purge, from another identity, about another subject, or twice', async () => {
    const { fake, t, subjectId, name, participant } = await setUp({});
    fake.behaviour = { acceptUntil: new Date(Date.now() + 3_600_000) };
    const report = {
      name,
      participant: 'svc-0',
      subjectId,
      outcome: { $case: 'nothingFound' as const, value: {} },
    };
    const impostor = {
      token: await mintToken({ sub: 'svc-other', scope: 'deletion:participant', service: true }),
    };

    expect((await callError(t.client.reportErasureOutcome(report, participant))).reason).toBe(
      'PARTICIPANT_NOT_FOUND',
    );
    await passes(t, 1);
    expect((await callError(t.client.reportErasureOutcome(report, impostor))).reason).toBe(
      'NOT_THIS_PARTICIPANT',
    );
    expect(
      (
        await callError(
          t.client.reportErasureOutcome({ ...report, subjectId: 'someone-else' }, participant),
        )
      ).reason,
    ).toBe('SUBJECT_MISMATCH');
    const stillWaiting = (await t.app.deps.requests.findById(name.split('/')[1] as never))!;
    expect(stillWaiting.participants['svc-0']?.status).toBe('ACCEPTED');
    await t.client.reportErasureOutcome(report, participant);
    expect((await callError(t.client.reportErasureOutcome(report, participant))).reason).toBe(
      'STEP_NOT_WAITING',
    );
  });

  it('refuses a user token with the participant scope and the service’s identity, on both transports', async () => {
    const { fake, t, subjectId, name, participant } = await setUp({});
    fake.behaviour = { acceptUntil: new Date(Date.now() + 3_600_000) };
    await passes(t, 1);
    // A person's token (no client credentials) naming the linked service as its subject.
    const person = await mintToken({ sub: 'svc-0', scope: 'deletion:participant' });
    const report = {
      name,
      participant: 'svc-0',
      subjectId,
      outcome: { $case: 'nothingFound' as const, value: {} },
    };

    const grpc = await callError(t.client.reportErasureOutcome(report, { token: person }));
    const trpc = await trpcFailure(
      createTrpcClient({ url: t.trpcUrl, token: person }).reportErasureOutcome.mutate({
        name,
        participant: 'svc-0',
        subjectId,
        outcome: { kind: 'NOTHING_FOUND' },
      }),
    );

    expect({ code: grpcCodeName(grpc.code), reason: grpc.reason }).toEqual({
      code: 'PERMISSION_DENIED',
      reason: 'NOT_A_SERVICE',
    });
    expect({ status: trpc.data?.status, reason: trpc.data?.reason }).toEqual({
      status: 'PERMISSION_DENIED',
      reason: 'NOT_A_SERVICE',
    });
    const stillWaiting = (await t.app.deps.requests.findById(name.split('/')[1] as never))!;
    expect(stillWaiting.participants['svc-0']?.status).toBe('ACCEPTED');
    // The service itself still reports.
    await t.client.reportErasureOutcome(report, participant);
  });

  it('retries a failed step on an admin’s word once the service is back, then completes', async () => {
    const { fake, t, cast, name } = await setUp({ failFirst: 1000, failWith: status.UNAVAILABLE });
    await passes(t, 3);
    const stuck = await t.client.getDeletionRequest({ name }, cast.admin);
    expect(stuck.state).toBe(State.STATE_NEEDS_ATTENTION);
    expect(stuck.participants[0]).toMatchObject({
      status: Step.STATUS_FAILED,
      attempts: 2,
      lastErrorCode: 'UNAVAILABLE',
    });

    fake.behaviour = {};
    const resumed = await t.client.retryParticipant(
      { name, participant: 'svc-0', etag: stuck.etag },
      cast.admin,
    );
    expect(resumed.state).toBe(State.STATE_ERASING);
    await passes(t, 1);

    expect((await t.client.getDeletionRequest({ name }, cast.admin)).state).toBe(
      State.STATE_COMPLETED,
    );
    expect(fake.effects.size).toBe(1);
  });

  it('completes a stuck purge resolved by hand with a justification, by someone other than the requester', async () => {
    const { t, cast, name } = await setUp({ failFirst: 1000, failWith: status.UNAVAILABLE });
    await passes(t, 3);
    const requesterAdmin = {
      token: await mintToken({
        sub: (await t.client.getDeletionRequest({ name }, cast.admin)).requester!.id,
        scope: 'deletion:admin',
      }),
    };
    const resolution = {
      name,
      participant: 'svc-0',
      justification: 'rows deleted by hand, ticket OPS-42',
      records: '7',
    };

    expect((await callError(t.client.resolveParticipant(resolution, requesterAdmin))).reason).toBe(
      'SELF_RESOLUTION',
    );
    const resolved = await t.client.resolveParticipant(resolution, cast.admin);
    await passes(t, 1);

    expect(resolved.history.at(-1)?.note).toBe('PARTICIPANT_RESOLVED:svc-0');
    const done = await t.client.getDeletionRequest({ name }, cast.admin);
    expect(done.state).toBe(State.STATE_COMPLETED);
    expect(done.participants[0]).toMatchObject({
      outcome: 'MANUAL',
      records: '7',
      justification: 'admin-cy: rows deleted by hand, ticket OPS-42',
    });
    // The administrator's action is audited (the refused attempt is not an action).
    const actions = await t.client.listAuditEvents(
      { deletionRequest: name, kind: AuditEventKind.AUDIT_EVENT_KIND_ADMIN_ACTION },
      cast.admin,
    );
    expect(actions.auditEvents.map((event) => [event.actor?.id, event.details])).toEqual([
      ['admin-cy', { operation: 'resolveParticipant' }],
    ]);
  });
});
