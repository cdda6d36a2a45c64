import { describe, expect, it } from 'vitest';
import { createCallWindow } from '../../../src/participants/call-window.js';

const MINUTE = 60_000;

/** A window over a clock the test moves (epoch ms). */
const windowAt = (options: { readonly windowMs: number; readonly maxSamples: number }) => {
  let now = 0;
  const window = createCallWindow({ ...options, clock: { now: () => new Date(now) } });
  return {
    window,
    at: (ms: number) => {
      now = ms;
      return window;
    },
  };
};

describe('the window of recent calls to linked services', () => {
  it('counts the calls and failures of the window, with nearest-rank p50 and p95', () => {
    const { at } = windowAt({ windowMs: 15 * MINUTE, maxSamples: 1000 });
    for (let ms = 1; ms <= 100; ms += 1)
      at(10 * MINUTE).record('crm', { ms, failed: ms % 10 === 0 });

    expect(at(12 * MINUTE).stats('crm')).toEqual({
      windowMs: 15 * MINUTE,
      calls: 100,
      failures: 10,
      p50Ms: 50,
      p95Ms: 95,
    });
    expect(at(12 * MINUTE).stats('billing')).toEqual({
      windowMs: 15 * MINUTE,
      calls: 0,
      failures: 0,
      p50Ms: null,
      p95Ms: null,
    });
  });

  it('forgets calls older than the window, by the clock it is given', () => {
    const { at } = windowAt({ windowMs: 15 * MINUTE, maxSamples: 1000 });
    at(0).record('crm', { ms: 900, failed: true });
    at(10 * MINUTE).record('crm', { ms: 20, failed: false });

    expect(at(14 * MINUTE).stats('crm')).toMatchObject({ calls: 2, failures: 1 });
    expect(at(15 * MINUTE).stats('crm')).toMatchObject({
      calls: 1,
      failures: 0,
      p50Ms: 20,
      p95Ms: 20,
    });
    expect(at(26 * MINUTE).stats('crm')).toMatchObject({ calls: 0, p50Ms: null });
  });

  it('keeps at most the newest calls per service, and then says how far back they reach', () => {
    const { at } = windowAt({ windowMs: 15 * MINUTE, maxSamples: 10 });
    for (let n = 0; n < 25; n += 1) at(n * 1000).record('crm', { ms: n, failed: n < 15 });

    // The calls kept ended from 15 s to 24 s; the newest dropped one at 14 s.
    expect(at(30_000).stats('crm')).toEqual({
      windowMs: 16_000,
      calls: 10,
      failures: 0,
      p50Ms: 19,
      p95Ms: 24,
    });
    // Once the dropped calls are older than the window, the whole window counts again.
    expect(at(14_000 + 15 * MINUTE).stats('crm')).toMatchObject({
      windowMs: 15 * MINUTE,
      calls: 10,
    });
  });

  it('keeps nothing for a name it was only asked about', () => {
    const { window } = windowAt({ windowMs: 15 * MINUTE, maxSamples: 10 });
    expect(window.stats('asked').calls).toBe(0);
    window.record('crm', { ms: 1, failed: false });
    expect(window.stats('crm').calls).toBe(1);
    expect(window.names()).toEqual(['crm']);
  });
});
