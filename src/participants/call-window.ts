import type { RecentCalls } from '../app/ports/participants.js';

/** One call as the window keeps it. */
interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly failed: boolean;
}

/** How much a window keeps. */
export interface CallWindowOptions {
  /** How far back it reaches. */
  readonly windowMs: number;
  /** The most calls it keeps per service: the newest, when more were made in the window. */
  readonly maxSamples: number;
}

/** Recent calls to linked services, per service, in this process's memory. */
export interface CallWindow {
  /** Records a call that ended at `at` (epoch ms) after `ms`. */
  record(name: string, call: Sample): void;
  /** The calls of the window ending at `now` (epoch ms). */
  stats(name: string, now: number): RecentCalls;
}

/** The nearest-rank percentile `p` (0–100) of sorted values. */
const percentile = (sorted: readonly number[], p: number): number | null => {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
};

/**
 * A sliding window of the calls to each linked service: at most
 * `maxSamples` per service (the oldest dropped first), and only those of the
 * last `windowMs` count. Bounded in memory by the registry's size times
 * `maxSamples`; per process, so each replica answers what it saw itself.
 */
export const createCallWindow = (options: CallWindowOptions): CallWindow => {
  const samples = new Map<string, Sample[]>();
  const recent = (name: string, now: number): Sample[] => {
    const kept = (samples.get(name) ?? []).filter((sample) => sample.at > now - options.windowMs);
    samples.set(name, kept);
    return kept;
  };
  return {
    record: (name, call) => {
      const kept = recent(name, call.at);
      kept.push(call);
      if (kept.length > options.maxSamples) kept.splice(0, kept.length - options.maxSamples);
    },
    stats: (name, now) => {
      const kept = recent(name, now);
      const sorted = kept.map((sample) => sample.ms).sort((a, b) => a - b);
      return {
        windowMs: options.windowMs,
        calls: kept.length,
        failures: kept.filter((sample) => sample.failed).length,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
      };
    },
  };
};
