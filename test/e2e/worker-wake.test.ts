import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('a request confirmed without a grace period', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A worker whose own timer would not run a pass for a minute; what the confirmation leaves
    // to finish after answering runs at once, as in production (it wakes the worker).
    t = await startTestApp(
      { WORKER_ENABLED: 'true', WORKER_INTERVAL_MS: '60000' },
      { immediateAfterwards: true },
    );
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('starts purging on an idle worker without waiting for its timer, and completes', async () => {
    const request = await t.scheduled({ prefix: 'wake' });
    const stateOf = async () => (await t.app.deps.requests.findById(request.id))?.state;
    // The worker's own timer would wait a minute: only the wake can start the purge this soon.
    // (Within a second on an idle machine; the bound leaves room for a loaded CI runner. How
    // fast belongs to the benchmarks.)
    await expect.poll(stateOf, { timeout: 15_000, interval: 20 }).not.toBe('SCHEDULED');
    await expect.poll(stateOf, { timeout: 15_000 }).toBe('COMPLETED');
  });
});

describe('a purge whose start loses a race', () => {
  const cleanup = cleanupsAfterEach();

  it('asks for the next pass at once, which starts it', async () => {
    const t = await startTestApp({});
    cleanup(() => t[Symbol.asyncDispose]());
    const request = await t.scheduled({ prefix: 'raced' });
    // Another write of the request (a notice's record, say) lands between the pass's query
    // and its claim of the purge.
    const requests = t.app.deps.requests;
    const find = requests.findDueForErasure.bind(requests);
    const raced = vi
      .spyOn(requests, 'findDueForErasure')
      .mockImplementationOnce(async (...args) => {
        const due = await find(...args);
        const current = await requests.findById(request.id);
        if (current !== null)
          await requests.update({ ...current, version: current.version + 1 }, current);
        return due;
      });
    const first = await t.app.runWorkerPass();
    expect(raced).toHaveBeenCalled();
    expect(first).toMatchObject({ completed: 0, more: true, failures: [] });
    expect((await requests.findById(request.id))?.state).toBe('SCHEDULED');

    const second = await t.app.runWorkerPass();
    expect(second).toMatchObject({ completed: 1, more: false });
  });
});
