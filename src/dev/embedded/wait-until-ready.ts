import type { TrackedProcess } from './child-process.js';

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

/** Thrown when the server process dies before it is ready (e.g. its port was taken meanwhile). */
export class EarlyExitError extends Error {}

/**
 * Polls `probe` until it answers true: the child is ready. Throws {@link EarlyExitError}
 * if the child exits first, or an error after 30 s; both carry the child's last output.
 */
export async function waitUntilReady(
  tracked: TrackedProcess,
  label: string,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ready = !tracked.hasExited() && (await probe());
    // Re-checked after the probe: if our child died meanwhile, whoever answered is a stranger.
    if (tracked.hasExited()) {
      const exit = await tracked.exited;
      const how =
        exit.error?.message ?? `exit code ${exit.code ?? 'none'}, signal ${exit.signal ?? 'none'}`;
      throw new EarlyExitError(
        `${label} exited before it was ready (${how}).${lastOutput(tracked)}`,
      );
    }
    if (ready) {
      return;
    }
    await new Promise((done) => setTimeout(done, READY_POLL_MS));
  }
  throw new Error(
    `${label} was not ready within ${READY_TIMEOUT_MS / 1_000} s.${lastOutput(tracked)}`,
  );
}

function lastOutput(tracked: TrackedProcess): string {
  const tail = tracked.outputTail();
  return tail === '' ? ' It printed nothing.' : ` Last output:\n${tail}`;
}
