import { credentials, Metadata } from '@grpc/grpc-js';
import {
  createParticipantServer,
  type EraseOutcome,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { DeletionServiceClient } from '../../src/gen/deletion/v1/deletion_service.js';
import { createTable } from './table.js';

/** How the analytics example reaches the deletion service to report later. */
export interface AnalyticsOptions {
  readonly subjects: readonly string[];
  /** The deletion service's gRPC address, `host:port` (a function: asked at the first report). */
  readonly deletionService: string | (() => string);
  /** A bearer token whose `sub` is this service's registered identity, scope `deletion:participant`. */
  readonly token: () => Promise<string>;
  /** Its registered name (default `analytics`). */
  readonly name?: string;
  /** How long the nightly batch job takes here (default 2 s). */
  readonly jobDelayMs?: number;
}

interface Erasure {
  readonly expectedBy: Date;
  readonly outcome: EraseOutcome | null;
}

const REPORT_ATTEMPTS = 6;

/**
 * Analytics: erasing from the warehouse is a batch job, so Erase answers
 * ACCEPTED with the time the outcome will be reported by (NOTHING_FOUND at
 * once when its index knows no such subject), and the job reports
 * it through `DeletionService/ReportErasureOutcome` (retrying while the
 * deletion service is away). A repeat of a deletion request answers the same
 * promise, or the final outcome once the job has run.
 */
export const createAnalyticsService = (options: AnalyticsOptions): ParticipantServer => {
  const events = createTable(options.subjects.map((subject) => [subject, 250] as const));
  const erasures = createTable<Erasure>();
  const timers = new Set<NodeJS.Timeout>();
  const jobDelayMs = options.jobDelayMs ?? 2000;
  let client: DeletionServiceClient | undefined;
  const deletionService = (): DeletionServiceClient => {
    const address =
      typeof options.deletionService === 'string'
        ? options.deletionService
        : options.deletionService();
    client ??= new DeletionServiceClient(address, credentials.createInsecure());
    return client;
  };
  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  const report = async (deletionRequest: string, subjectId: string, outcome: EraseOutcome) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await options.token()}`);
    const value =
      outcome.kind === 'erased'
        ? {
            $case: 'erased' as const,
            value: {
              records: String(outcome.records),
              categories: [...(outcome.categories ?? [])],
            },
          }
        : { $case: 'nothingFound' as const, value: {} };
    await new Promise<void>((resolve, reject) =>
      deletionService().reportErasureOutcome(
        {
          name: deletionRequest,
          participant: options.name ?? 'analytics',
          subjectId,
          outcome: value,
        },
        metadata,
        { deadline: Date.now() + 5000 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  };
  const runJob = async (deletionRequest: string, subjectId: string, attempt = 1) => {
    const erasure = await erasures.get(deletionRequest);
    if (erasure === undefined) return;
    let outcome = erasure.outcome;
    if (outcome === null) {
      const records = (await events.take(subjectId)) ?? 0;
      outcome =
        records > 0
          ? { kind: 'erased', records, categories: ['events'] }
          : { kind: 'nothingFound' };
      await erasures.set(deletionRequest, { ...erasure, outcome });
    }
    try {
      await report(deletionRequest, subjectId, outcome);
    } catch {
      if (attempt < REPORT_ATTEMPTS)
        later(1000 * 2 ** attempt, () => void runJob(deletionRequest, subjectId, attempt + 1));
    }
  };
  const server = createParticipantServer({
    // Analytics takes part in the purge only (its registration has phases: ["erase"]).
    suspend: () => Promise.resolve(),
    restore: () => Promise.resolve(),
    erase: async ({ deletionRequest, subjectId }) => {
      const known = await erasures.get(deletionRequest);
      if (known?.outcome) return known.outcome;
      if (known) return { kind: 'accepted', expectedBy: known.expectedBy };
      if ((await events.get(subjectId)) === undefined) {
        // The index says at once that there is nothing: no job, a final answer.
        const outcome: EraseOutcome = { kind: 'nothingFound' };
        await erasures.set(deletionRequest, { expectedBy: new Date(), outcome });
        return outcome;
      }
      const expectedBy = new Date(Date.now() + Math.max(60_000, 10 * jobDelayMs));
      await erasures.set(deletionRequest, { expectedBy, outcome: null });
      later(jobDelayMs, () => void runJob(deletionRequest, subjectId));
      return { kind: 'accepted', expectedBy };
    },
  });
  return {
    listen: (host, port) => server.listen(host, port),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      client?.close();
      await server.close();
    },
  };
};
