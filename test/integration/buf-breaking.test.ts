import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SERVICE_PROTO = 'proto/deletion/v1/deletion_service.proto';

/**
 * `npm run lint:proto`'s breaking check, on commits (issue 21, item 12): in a
 * scratch clone of this repository, a committed change that breaks the
 * contract fails the check, and one that only adds passes.
 */
describe('buf breaking on a committed change', { timeout: 120_000 }, () => {
  let scratch: string;
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.email=ci@example.test', '-c', 'user.name=ci', ...args], {
      cwd: scratch,
    });
  /** Runs the check in the scratch clone: its exit code and what it printed. */
  const check = async () =>
    run(process.execPath, ['scripts/buf-breaking.mjs'], { cwd: scratch }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: unknown) => {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, output: failed.stdout + failed.stderr };
      },
    );

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'buf-breaking-'));
    await run('git', ['clone', '--quiet', process.cwd(), scratch]);
    await symlink(join(process.cwd(), 'node_modules'), join(scratch, 'node_modules'), 'dir');
  });
  afterAll(async () => rm(scratch, { recursive: true, force: true }));

  it('passes a commit that only adds to the contract', async () => {
    await appendFile(
      join(scratch, SERVICE_PROTO),
      '\n// Added by a test.\nmessage ScratchAddition {\n  string note = 1;\n}\n',
    );
    await git('commit', '--quiet', '-am', 'adds a message');

    const result = await check();

    expect(result).toMatchObject({ code: 0 });
  });

  it('fails a commit that removes an RPC, naming it', async () => {
    const file = join(scratch, SERVICE_PROTO);
    const text = await readFile(file, 'utf8');
    const without = text.replace(/^\s*rpc ReportErasureOutcome\(.*\n/m, '');
    expect(without).not.toBe(text);
    await writeFile(file, without);
    await git('commit', '--quiet', '-am', 'removes ReportErasureOutcome');

    const result = await check();

    expect(result.code).not.toBe(0);
    expect(result.output).toContain('ReportErasureOutcome');
  });
});
