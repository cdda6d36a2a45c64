import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
