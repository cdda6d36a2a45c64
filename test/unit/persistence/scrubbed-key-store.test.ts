import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SubjectKeyStore } from '../../../src/app/ports/subject-keys.js';
import type { SubjectId } from '../../../src/domain/ids.js';
import {
  scrubAfterDestroy,
  type ScrubReport,
} from '../../../src/persistence/mongo/scrubbed-key-store.js';

const keys: SubjectKeyStore = {
  getOrCreate: () => Promise.resolve(new Uint8Array(32)),
  find: () => Promise.resolve(null),
  destroy: () => Promise.resolve(),
};
const subject = 'subject-1' as SubjectId;

describe('scrubbing after key destruction', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('scrubs at start, and again for a destruction made while a scrub ran', async () => {
    const gates: (() => void)[] = [];
    let scrubs = 0;
    const store = scrubAfterDestroy(
      keys,
      () =>
        new Promise<void>((resolve) => {
          scrubs += 1;
          gates.push(resolve);
        }),
      () => undefined,
    );
    expect(scrubs).toBe(1); // at start
    await store.destroy(subject); // while the first runs
    gates.shift()?.();
    await vi.waitFor(() => expect(scrubs).toBe(2));
    gates.shift()?.();
    await store.scrubbed();
    expect(scrubs).toBe(2);
  });

  it('tries a failed scrub again, reporting the window from the oldest destruction', async () => {
    vi.useFakeTimers();
    const reports: ScrubReport[] = [];
    let fail = true;
    const store = scrubAfterDestroy(
      keys,
      () => (fail ? Promise.reject(new Error('lock timeout')) : Promise.resolve()),
      (report) => reports.push(report),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.error).toBeInstanceOf(Error);
    fail = false;
    await vi.advanceTimersByTimeAsync(5000);
    await store.scrubbed();
    expect(reports).toHaveLength(2);
    expect(reports[1]?.error).toBeUndefined();
    expect(reports[1]?.windowMs).toBeGreaterThanOrEqual(5000);
  });
});
