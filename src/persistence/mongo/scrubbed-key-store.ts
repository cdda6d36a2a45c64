import type { SubjectKeyStore } from '../../app/ports/subject-keys.js';

/** What a scrub reports: how long it took, and how long the oldest key it covers lay in the files. */
export interface ScrubReport {
  readonly tookMs: number;
  readonly windowMs: number;
  readonly error?: unknown;
}

/** A failed scrub is tried again after this long. */
const RETRY_MS = 5000;

/**
 * The key store, with what a destruction leaves in the database's files
 * taken out after it (`scrub`: the embedded database's VACUUM FULL and WAL
 * checkpoint). The purge does not wait for it: scrubs run one at a time,
 * destructions during one are covered by the next, a failed one is tried
 * again after RETRY_MS, and one runs at start (a key destroyed just before
 * a crash). `scrubbed()` settles once every destruction so far is scrubbed.
 */
export const scrubAfterDestroy = (
  keys: SubjectKeyStore,
  scrub: () => Promise<void>,
  report: (done: ScrubReport) => void,
): SubjectKeyStore & { scrubbed(): Promise<void> } => {
  /** When the oldest destruction not scrubbed yet happened (epoch ms); set by destructions meanwhile. */
  const pending: { since: number | undefined } = { since: undefined };
  /** Read through a function: a destruction may set it while a scrub is awaited. */
  const pendingNow = (): number | undefined => pending.since;
  let running: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    while (pending.since !== undefined) {
      const since = pending.since;
      pending.since = undefined;
      const started = Date.now();
      try {
        await scrub();
        report({ tookMs: Date.now() - started, windowMs: Date.now() - since });
      } catch (error) {
        report({ tookMs: Date.now() - started, windowMs: Date.now() - since, error });
        // A destruction meanwhile may have set a later time: the earlier one is kept.
        pending.since = Math.min(since, ...[pendingNow()].filter((at) => at !== undefined));
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
    running = undefined;
  };
  const request = (): void => {
    pending.since ??= Date.now();
    running ??= run();
  };
  request();
  return {
    ...keys,
    destroy: async (subjectId) => {
      await keys.destroy(subjectId);
      request();
    },
    scrubbed: async () => {
      while (running !== undefined) await running;
    },
  };
};
