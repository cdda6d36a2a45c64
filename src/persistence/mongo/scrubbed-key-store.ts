import type { SubjectKeyStore } from '../../app/ports.js';

/** What a scrub reports: how long it took, and how long the oldest key it covers lay in the files. */
export interface ScrubReport {
  readonly tookMs: number;
  readonly windowMs: number;
  readonly error?: unknown;
}

/**
 * The key store, with what a destruction leaves in the database's files
 * taken out after it (`scrub`: the embedded database's VACUUM FULL and WAL
 * checkpoint). A destruction is not held up by it: scrubs run one at a
 * time, and destructions during one are covered by the next. `scrubbed()`
 * settles once every destruction so far is scrubbed.
 */
export const scrubAfterDestroy = (
  keys: SubjectKeyStore,
  scrub: () => Promise<void>,
  report: (done: ScrubReport) => void,
): SubjectKeyStore & { scrubbed(): Promise<void> } => {
  /** When the oldest destruction not scrubbed yet happened (epoch ms). */
  let pendingSince: number | undefined;
  let running: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    while (pendingSince !== undefined) {
      const since = pendingSince;
      pendingSince = undefined;
      const started = Date.now();
      try {
        await scrub();
        report({ tookMs: Date.now() - started, windowMs: Date.now() - since });
      } catch (error) {
        // Tried again with the next destruction; the files keep the key until then.
        report({ tookMs: Date.now() - started, windowMs: Date.now() - since, error });
      }
    }
    running = undefined;
  };
  return {
    ...keys,
    destroy: async (subjectId) => {
      await keys.destroy(subjectId);
      pendingSince ??= Date.now();
      running ??= run();
    },
    scrubbed: async () => {
      while (running !== undefined) await running;
    },
  };
};
