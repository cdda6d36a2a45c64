import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  spawnTracked,
  stopTracked,
  type TrackedProcess,
} from '../../src/dev/embedded/child-process.js';
import { defaultCacheDir } from '../../src/dev/embedded/embedded-database.js';
import { findGo, runGo } from '../../src/dev/embedded/ferretdb-binary.js';
import {
  EraseRequest,
  ErasureParticipantServiceClient,
  type EraseResponse,
} from '../../src/gen/deletion/participant/v1/erasure_participant_service.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'linked-services', 'go');
const run = promisify(execFile);

const log = (line: string): void => {
  process.stderr.write(`[go-linked-service] ${line}\n`);
};

/**
 * `go build`s the example into the cache outside the repository. Go's own
 * build cache (~/.cache/go-build) makes this take about a second once grpc
 * has been compiled, and rebuilds whatever changed. No Go toolchain: fails.
 */
const buildExample = async (): Promise<string> => {
  const go = await findGo(
    'The Go example linked service (examples/linked-services/go)',
    'version 1.26 or newer (its go.mod says), and put it on PATH; .ci/run does',
  );
  const folder = join(defaultCacheDir(), 'go-linked-service');
  await mkdir(folder, { recursive: true });
  const binary = join(folder, 'linked-service');
  const started = Date.now();
  await runGo(go, ['build', '-o', binary, '.'], { cwd: EXAMPLE, log });
  log(`go build took ${String(Date.now() - started)} ms: ${binary}`);
  return binary;
};

/** A running example: where it serves, its log lines, the process. */
interface RunningExample {
  readonly address: string;
  readonly lines: readonly string[];
  readonly tracked: TrackedProcess;
}

/** Starts the example on a port the OS picks and resolves once it logs where it serves. */
const startExample = async (
  binary: string,
  subjects: readonly string[],
): Promise<RunningExample> => {
  const lines: string[] = [];
  let serving: ((address: string) => void) | undefined;
  const address = new Promise<string>((resolve) => {
    serving = resolve;
  });
  const tracked = spawnTracked(binary, ['-addr', '127.0.0.1:0', '-subjects', subjects.join(',')], {
    onLine: (line) => {
      lines.push(line);
      const match = /msg=serving addr=(\S+)/.exec(line);
      if (match?.[1] !== undefined) serving?.(match[1]);
    },
  });
  const ended = tracked.exited.then((exit) => {
    throw new Error(
      `the Go example exited before serving (${String(exit.code ?? exit.signal)}):\n${tracked.outputTail()}`,
    );
  });
  return { address: await Promise.race([address, ended]), lines, tracked };
};

/** Runs the conformance kit's command line, as a user would; never throws for a failing rule. */
const conformance = async (...args: string[]): Promise<{ code: number; stdout: string }> => {
  const cli = ['--import', 'tsx', 'clients/participant-conformance/cli.ts', ...args];
  try {
    const { stdout } = await run(process.execPath, cli, { cwd: ROOT });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: String(failed.stdout) };
  }
};

/**
 * The linked service written in Go (issue 23): `examples/linked-services/go`,
 * built from the same .proto, passes the participant conformance kit as its
 * users run it (the command line), and stops cleanly on SIGTERM.
 */
describe('the Go example linked service', () => {
  const cleanup = cleanupsAfterEach();
  let binary: Promise<string>;
  // The first build compiles grpc-go: about half a minute on two cores with a cold Go cache.
  beforeAll(async () => {
    binary = buildExample();
    // A failed build (no Go) fails every test with its message, rather than skipping them.
    await binary.catch(() => undefined);
  }, 900_000);

  const started = async (subjects: readonly string[]): Promise<RunningExample> => {
    const example = await startExample(await binary, subjects);
    cleanup(() => stopTracked(example.tracked));
    return example;
  };

  it('passes every rule of the conformance kit, erasing a subject it holds', async () => {
    const example = await started(['go-kit-subject']);

    const first = await conformance('--address', example.address, '--subject', 'go-kit-subject');
    expect(first.code, first.stdout).toBe(0);
    expect(first.stdout.match(/^PASS {2}/gm)).toHaveLength(5);
    expect(first.stdout).not.toMatch(/^FAIL/m);
    expect(first.stdout).toContain('all 5 rules pass');
    // The subject's records were erased, and every repeat answered what the first Erase did.
    expect(first.stdout).toContain('ERASED(4, profile+tickets) ×4');

    // Run again: the subject is gone, so its new deletion request finds nothing; still conformant.
    const again = await conformance('--address', example.address, '--subject', 'go-kit-subject');
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('NOTHING_FOUND ×4');
  });

  it('answers bad input with INVALID_ARGUMENT and a reused deletion request with FAILED_PRECONDITION', async () => {
    const example = await started(['go-status-subject']);
    const client = new ErasureParticipantServiceClient(
      example.address,
      credentials.createInsecure(),
    );
    cleanup(() => client.close());
    const erase = (request: Partial<EraseRequest>) =>
      new Promise<EraseResponse>((resolve, reject) =>
        client.erase(
          EraseRequest.fromPartial(request),
          new Metadata(),
          { deadline: Date.now() + 5000 },
          (error: ServiceError | null, response?: EraseResponse) =>
            error ? reject(error) : resolve(response!),
        ),
      );
    const codeOf = (call: Promise<unknown>) =>
      call.then(
        () => 'OK',
        (error: unknown) => (error as ServiceError).code,
      );

    const named = { deletionRequest: 'deletionRequests/go-status', subjectId: 'go-status-subject' };
    expect(await codeOf(erase({ subject: { ...named, deletionRequest: 'go-status' } }))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await codeOf(erase({ subject: { ...named, subjectId: '' } }))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await erase({ subject: named, categories: ['tickets'] })).toMatchObject({
      subject: named,
      outcome: { $case: 'erased', value: { records: '3', categories: ['tickets'] } },
    });
    expect(await codeOf(erase({ subject: { ...named, subjectId: 'someone-else' } }))).toBe(
      status.FAILED_PRECONDITION,
    );
  });

  it('stops cleanly on SIGTERM, after which the kit fails every rule', async () => {
    const example = await started(['go-stop-subject']);

    expect(await stopTracked(example.tracked)).toMatchObject({ code: 0, signal: null });
    expect(example.lines.at(-1)).toContain('msg=stopped');

    // Nothing answers at the address any more: the kit says so, and this test's checks can fail.
    const after = await conformance('--address', example.address, '--timeout-ms', '1000');
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('5 rule(s) fail');
  });
});
