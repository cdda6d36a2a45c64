// One process of the write-path load: RequestDeletion calls, each for a subject
// of its own (`${prefix}${index}`, indices from the range the parent gives), from
// `inFlight` loops for `seconds` or until the range is spent. Only a call that
// answers a request (grpc status 0) counts; one past the client's deadline is
// counted apart (an overloaded server), any other failure fails the bench. Reports over IPC.
import { createDeletionClient } from '../../../clients/grpc/deletion-client.js';

/** What the parent asks of one round. */
export interface WriteLoadOrder {
  readonly port: number;
  readonly token: string;
  readonly prefix: string;
  readonly from: number;
  readonly to: number;
  readonly inFlight: number;
  readonly seconds: number;
}

/** What one round did. */
export interface WriteLoadReport {
  readonly calls: number;
  /** Calls past the client's deadline (DEADLINE_EXCEEDED): not counted as calls. */
  readonly timedOut: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

const run = async (order: WriteLoadOrder): Promise<WriteLoadReport> => {
  const client = createDeletionClient({
    address: `127.0.0.1:${String(order.port)}`,
    auth: { token: order.token },
    retry: { attempts: 1 },
  });
  const latenciesMs: number[] = [];
  let next = order.from;
  let failures = 0;
  let timedOut = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const until = started + order.seconds * 1000;
  await Promise.all(
    Array.from({ length: order.inFlight }, async () => {
      while (performance.now() < until && next < order.to) {
        const subjectId = `${order.prefix}${String(next)}`;
        next += 1;
        const at = performance.now();
        try {
          await client.requestDeletion({ subjectId, reason: 'bench' });
          latenciesMs.push(performance.now() - at);
        } catch (error) {
          if (String(error).includes('Deadline exceeded')) {
            timedOut += 1;
            continue;
          }
          failures += 1;
          firstFailure ??= String(error);
        }
      }
    }),
  );
  client.close();
  return {
    calls: latenciesMs.length,
    timedOut,
    failures,
    ...(firstFailure !== undefined && { firstFailure }),
    elapsedMs: performance.now() - started,
    latenciesMs,
  };
};

process.on('message', (order: WriteLoadOrder) => {
  void run(order).then((report) => process.send?.(report));
});
process.send?.({ ready: true });
