// Whether a request id's existence shows in the time of a refusal (issue 21, item 9): a
// subject asks GetDeletionRequest over gRPC for another subject's request ("exists, not
// yours") and for an id that does not exist, alternating, and the script prints the
// median latency of each and their ratio. Before access was decided from the stored
// subject, the first was measurably slower (the request was loaded and its sealed fields
// decrypted before the caller was checked). Loopback only, bounded by --calls.
//   node --import tsx test/security/existence-timing.ts [--calls=400]
import { randomUUID } from 'node:crypto';
import { startBenchEnv } from '../bench/lib/bench-env.js';
import { numberArgs, percentile } from '../bench/lib/report.js';
import { createTestClient, callError } from '../support/grpc-test-client.js';
import { mintToken } from '../support/tokens.js';

const args = numberArgs({ calls: 400 });
const env = await startBenchEnv();
try {
  await env.seedAccounts('timing-', 2);
  const client = createTestClient(`127.0.0.1:${String(env.replica.ports.grpcPort)}`);
  const self = async (subjectId: string) => ({
    token: await mintToken({ sub: subjectId, scope: 'deletion:self' }),
  });
  const victim = await client.requestDeletion(
    { subjectId: 'timing-0', reason: 'a reason that is sealed under the subject key' },
    await self('timing-0'),
  );
  const prober = await self('timing-1');
  const missing = `deletionRequests/${randomUUID()}`;
  const timed = async (name: string): Promise<number> => {
    const started = performance.now();
    const refused = await callError(client.getDeletionRequest({ name }, prober));
    if (refused.reason !== 'PERMISSION_DENIED') throw new Error(`unexpected ${refused.reason}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 50; i += 1) await timed(i % 2 === 0 ? victim.name : missing); // warm-up
  const theirs: number[] = [];
  const nobodys: number[] = [];
  for (let i = 0; i < args.calls; i += 1) {
    theirs.push(await timed(victim.name));
    nobodys.push(await timed(missing));
  }
  const medians = { existsNotYours: percentile(theirs, 0.5), missing: percentile(nobodys, 0.5) };
  console.log(
    JSON.stringify({
      calls: args.calls,
      medianMs: medians,
      ratio: Math.round((medians.existsNotYours / medians.missing) * 1000) / 1000,
    }),
  );
  client.close();
} finally {
  await env.stop();
}
