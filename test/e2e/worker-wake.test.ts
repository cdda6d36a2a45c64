import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('a request confirmed without a grace period', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A worker whose own timer would not run a pass for a minute.
    t = await startTestApp({ WORKER_ENABLED: 'true', WORKER_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('starts purging within a second on an idle worker, and completes', async () => {
    const request = await t.scheduled({ prefix: 'wake' });
    const confirmedAt = Date.now();
    const stateOf = async () => (await t.app.deps.requests.findById(request.id))?.state;
    let state = await stateOf();
    while (state === 'SCHEDULED' && Date.now() - confirmedAt < 5000) {
      await sleep(20);
      state = await stateOf();
    }
    const startedWithinMs = Date.now() - confirmedAt;
    expect(state).not.toBe('SCHEDULED');
    expect(startedWithinMs).toBeLessThan(1000);
    await expect.poll(stateOf, { timeout: 5000 }).toBe('COMPLETED');
  });
});
