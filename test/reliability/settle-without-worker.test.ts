import { describe, expect, inject, it, vi } from 'vitest';
import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';
import { callError } from '../support/grpc-test-client.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { startTestApp } from '../support/test-app.js';

/**
 * A confirmation is stored, then the database goes away before the account
 * is deactivated and its sessions revoked; the caller does not retry and no
 * worker replica runs (issue 21, item 2). Every replica settles such
 * stragglers on its own (`SETTLE_SWEEP_SECONDS`), so the soft delete takes
 * effect within that period after the grace `settleStragglers` leaves a
 * call to finish its own work.
 */
describe('a soft delete whose account effects were cut off', () => {
  const cleanup = cleanupsAfterEach();

  it('takes effect with no retry and no worker, once the database is back', async () => {
    const uri = inject('mongoUri');
    const proxy = await startCuttableProxy(new URL(uri).host);
    cleanup(() => proxy.close());
    const t = await startTestApp(
      { SETTLE_SWEEP_SECONDS: '1' },
      { mongoUri: proxy.uriThrough(uri), immediateAfterwards: true },
    );
    cleanup(async () => {
      proxy.restore();
      await t[Symbol.asyncDispose]();
    });
    const subject = await t.requested({ prefix: 'cut-off' });
    const suspend = t.app.deps.accounts.suspend.bind(t.app.deps.accounts);
    const cut = vi.spyOn(t.app.deps.accounts, 'suspend').mockImplementationOnce((...args) => {
      proxy.cut();
      return suspend(...args);
    });

    // The caller hears UNAVAILABLE (and, here, does not retry); the confirmation was stored.
    const failed = await callError(
      t.client.confirmDeletion({ name: subject.name, code: subject.code }, subject.cast.self),
    );
    expect(grpcCodeName(failed.code)).toBe('UNAVAILABLE');
    await expect.poll(() => cut.mock.calls.length).toBe(1);
    await t.app.deps.afterwards.settled();
    proxy.restore();
    const stored = await t.app.deps.requests.findById(subject.id);
    expect(stored).toMatchObject({ state: 'SCHEDULED', accountSynced: false });
    expect(await t.accountStatus(subject.subjectId)).toBe('ACTIVE');

    // Past the grace a call has to finish its own work, some replica does it.
    t.clock.advance(11_000);
    // The settling records accountSynced once both effects are done (the account is deactivated
    // before its sessions are revoked: checking sessions as soon as it is deactivated races them).
    await expect
      .poll(async () => (await t.app.deps.requests.findById(subject.id))?.accountSynced, {
        timeout: 20_000,
      })
      .toBe(true);
    expect(await t.accountStatus(subject.subjectId)).toBe('DEACTIVATED');
    expect(await t.count('sessions', { subjectId: subject.subjectId })).toBe(0);
  });
});
