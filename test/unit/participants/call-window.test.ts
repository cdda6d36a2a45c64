import { describe, expect, it } from 'vitest';
import { createCallWindow } from '../../../src/participants/call-window.js';

const MINUTE = 60_000;

describe('the window of recent calls to linked services', () => {
  it('counts the calls and failures of the window, with nearest-rank p50 and p95', () => {
    const window = createCallWindow({ windowMs: 15 * MINUTE, maxSamples: 1000 });
    for (let ms = 1; ms <= 100; ms += 1)
      window.record('crm', { at: 10 * MINUTE, ms, failed: ms % 10 === 0 });

    expect(window.stats('crm', 12 * MINUTE)).toEqual({
      windowMs: 15 * MINUTE,
      calls: 100,
      failures: 10,
      p50Ms: 50,
      p95Ms: 95,
    });
    expect(window.stats('billing', 12 * MINUTE)).toEqual({
      windowMs: 15 * MINUTE,
      calls: 0,
      failures: 0,
      p50Ms: null,
      p95Ms: null,
    });
  });

  it('forgets calls older than the window', () => {
    const window = createCallWindow({ windowMs: 15 * MINUTE, maxSamples: 1000 });
    window.record('crm', { at: 0, ms: 900, failed: true });
    window.record('crm', { at: 10 * MINUTE, ms: 20, failed: false });

    expect(window.stats('crm', 14 * MINUTE)).toMatchObject({ calls: 2, failures: 1 });
    expect(window.stats('crm', 15 * MINUTE)).toMatchObject({
      calls: 1,
      failures: 0,
      p50Ms: 20,
      p95Ms: 20,
    });
    expect(window.stats('crm', 26 * MINUTE)).toMatchObject({ calls: 0, p50Ms: null });
  });

  it('keeps at most the newest calls per service, whatever the traffic', () => {
    const window = createCallWindow({ windowMs: 15 * MINUTE, maxSamples: 10 });
    for (let n = 0; n < 25; n += 1) window.record('crm', { at: n, ms: n, failed: n < 15 });

    expect(window.stats('crm', 30)).toEqual({
      windowMs: 15 * MINUTE,
      calls: 10,
      failures: 0,
      p50Ms: 19,
      p95Ms: 24,
    });
  });
});
