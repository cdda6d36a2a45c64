import type { Clock } from '../app/ports/clock.js';
import type { RecentCalls } from '../app/ports/participants.js';

/** One call as the window keeps it: when it ended (epoch ms), how long it took. */
interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly failed: boolean;
}

/** One service's kept calls, and the end of the newest call dropped to stay within the cap. */
interface Kept {
  samples: Sample[];
  droppedAt: number;
}

/** How much a window keeps, and the clock it reads (the service's, as `readAt` is). */
export interface CallWindowOptions {
  /** How far back it reaches. */
  readonly windowMs: number;
  /** The most calls it keeps per service: the newest, when more were made in the window. */
  readonly maxSamples: number;
  readonly clock: Clock;
}

/** Recent calls to linked services, per service, in this process's memory. */
export interface CallWindow {
  /** Records a call that ends now, after `ms`. */
  record(name: string, call: { readonly ms: number; readonly failed: boolean }): void;
  /** The calls of the window ending now; asking about a name keeps nothing for it. */
  stats(name: string): RecentCalls;
  /** The services it keeps calls of: those called, never those only asked about. */
  names(): string[];
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
 * last `windowMs` count. When the cap dropped calls still in the window, the
 * figures reach back only to the newest dropped one, and `windowMs` says so.
 * Bounded in memory by the registry's size times `maxSamples`; per process,
 * so each replica answers what it saw itself.
 */
export const createCallWindow = (options: CallWindowOptions): CallWindow => {
  const services = new Map<string, Kept>();
  const now = () => options.clock.now().getTime();
  const prune = (kept: Kept, at: number): Kept => {
    kept.samples = kept.samples.filter((sample) => sample.at > at - options.windowMs);
    return kept;
  };
  return {
    record: (name, call) => {
      const at = now();
      const kept = prune(services.get(name) ?? { samples: [], droppedAt: -Infinity }, at);
      kept.samples.push({ at, ...call });
      const over = kept.samples.length - options.maxSamples;
      if (over > 0) kept.droppedAt = kept.samples.splice(0, over).at(-1)?.at ?? kept.droppedAt;
      services.set(name, kept);
    },
    stats: (name) => {
      const at = now();
      const found = services.get(name);
      const kept = found === undefined ? { samples: [], droppedAt: -Infinity } : prune(found, at);
      const sorted = kept.samples.map((sample) => sample.ms).sort((a, b) => a - b);
      return {
        windowMs: Math.min(options.windowMs, at - kept.droppedAt),
        calls: kept.samples.length,
        failures: kept.samples.filter((sample) => sample.failed).length,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
      };
    },
    names: () => [...services.keys()],
  };
};
