import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { createDeletionClient as createTrpcClient } from '../../clients/trpc/deletion-client.js';
import { callError } from '../support/grpc-test-client.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { trpcFailure } from '../support/trpc-failure.js';

/**
 * A subject asking for another subject's request must learn nothing from the
 * answer, its code or its timing (issue 21, item 9): access is decided from
 * the stored subject before anything of the request is decrypted.
 * `test/security/existence-timing.ts` reports the two latencies side by side.
 */
describe('another subject’s request', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  it('answers as a missing one, on both transports, without decrypting anything of it', async () => {
    // The victim's request holds sealed personal data (its reason).
    const victimId = newSubjectId('victim');
    await t.seedAccount({ id: victimId });
    const owner = await castFor(victimId);
    const victim = await t.client.requestDeletion(
      { subjectId: victimId, reason: 'moving to another provider' },
      owner.self,
    );
    const prober = await t.requested({ prefix: 'prober' });
    const missing = `deletionRequests/${randomUUID()}`;
    const opened = vi.spyOn(t.app.subjectData.cipher, 'open');

    const answers = async (name: string) => {
      const grpc = await callError(t.client.getDeletionRequest({ name }, prober.cast.self));
      const trpc = await trpcFailure(
        createTrpcClient({
          url: t.trpcUrl,
          token: prober.cast.self.token,
        }).getDeletionRequest.query({ name }),
      );
      return {
        grpc: { code: grpcCodeName(grpc.code), reason: grpc.reason },
        trpc: { status: trpc.data?.status, reason: trpc.data?.reason },
      };
    };
    const theirs = await answers(victim.name);
    const nobodys = await answers(missing);

    expect(theirs).toEqual(nobodys);
    expect(theirs.grpc.code).toBe('PERMISSION_DENIED');
    expect(opened).not.toHaveBeenCalled();
    // The owner's own read still opens it.
    await t.client.getDeletionRequest({ name: victim.name }, owner.self);
    expect(opened).toHaveBeenCalled();
    opened.mockRestore();
  });
});
