import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createParticipantServer,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { startTestApp } from '../support/test-app.js';
import {
  ErasureParticipantServiceClient,
  type EraseResponse,
} from '../../src/gen/deletion/participant/v1/erasure_participant_service.js';

describe('participant SDK', () => {
  let server: ParticipantServer;
  let client: InstanceType<typeof ErasureParticipantServiceClient>;
  const effects: string[] = [];
  const aborted: string[] = [];
  let abortSeen: () => void = () => undefined;
  const aborting = new Promise<void>((resolve) => (abortSeen = resolve));
  const notices: string[] = [];
  let port = 0;

  beforeAll(async () => {
    server = createParticipantServer({
      suspend: (subject) => {
        notices.push(`suspend:${subject.deletionRequest}`);
        return Promise.resolve();
      },
      restore: () => Promise.resolve(),
      erase: async (subject, call) => {
        if (subject.subjectId === 'slow') {
          await new Promise((resolve) => call.signal.addEventListener('abort', resolve));
          aborted.push(subject.deletionRequest);
          abortSeen();
          throw new Error('gave up at the deadline');
        }
        await new Promise((resolve) => setTimeout(resolve, 30));
        effects.push(subject.deletionRequest);
        return subject.subjectId === 'ghost'
          ? { kind: 'nothingFound' }
          : { kind: 'erased', records: 2, categories: ['profile'] };
      },
    });
    port = await server.listen('127.0.0.1', 0);
    client = new ErasureParticipantServiceClient(
      `127.0.0.1:${String(port)}`,
      credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  const erase = (deletionRequest: string, subjectId: string, deadlineMs = 2000) =>
    new Promise<EraseResponse>((resolve, reject) =>
      client.erase(
        { subject: { deletionRequest, subjectId }, categories: [], finalAnswerDeadline: undefined },
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => (error ? reject(error) : resolve(response)),
      ),
    );

  it('echoes the subject and answers the outcome', async () => {
    const answer = await erase('deletionRequests/a', 'alice');
    expect(answer).toEqual({
      subject: { deletionRequest: 'deletionRequests/a', subjectId: 'alice' },
      outcome: { $case: 'erased', value: { records: '2', categories: ['profile'] } },
    });
    expect((await erase('deletionRequests/b', 'ghost')).outcome).toEqual({
      $case: 'nothingFound',
      value: {},
    });
  });

  it('runs the handler once for concurrent and repeated calls of the same request', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => erase('deletionRequests/c', 'carol')),
    );
    await erase('deletionRequests/c', 'carol');
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(effects.filter((e) => e === 'deletionRequests/c')).toHaveLength(1);
  });

  it('aborts the handler at the call deadline', async () => {
    await expect(erase('deletionRequests/d', 'slow', 100)).rejects.toMatchObject({ code: 4 });
    await aborting;
    expect(aborted).toEqual(['deletionRequests/d']);
  });

  it('serves the deletion service end to end: Suspend at soft delete, Erase at purge', async () => {
    const participants = JSON.stringify([
      { name: 'sdk-svc', address: `127.0.0.1:${String(port)}` },
    ]);
    await using t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', PARTICIPANTS: participants });
    const { name, cast } = await t.scheduled();

    await t.app.runWorkerPass();
    await t.app.runWorkerPass();

    expect(notices).toContain(`suspend:${name}`);
    expect(effects).toContain(name);
    const done = await t.client.getDeletionRequest({ name }, cast.self);
    expect(done.participants[0]).toMatchObject({
      participant: 'sdk-svc',
      outcome: 'ERASED',
      records: '2',
    });
  });
});
