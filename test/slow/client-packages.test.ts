import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROGRAM = fileURLToPath(new URL('./client-packages/', import.meta.url));
const run = promisify(execFile);
const PACKAGES = [
  'erasure-report',
  'grpc-client',
  'trpc-client',
  'participant-sdk',
  'participant-conformance',
  'deletionctl',
].map((name) => `@account-deletion/${name}`);

const log = (line: string): void => {
  process.stderr.write(`[client-packages] ${line}\n`);
};

/** npm in a folder; its output on failure. */
const npm = async (cwd: string, args: readonly string[]): Promise<string> => {
  const started = Date.now();
  const { stdout } = await run('npm', [...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  log(`npm ${args.slice(0, 2).join(' ')} … took ${String(Date.now() - started)} ms`);
  return stdout;
};

/**
 * The client packages as another repository gets them: built, packed with `npm pack`,
 * installed from the tarballs into a scratch project outside the repository (their
 * third-party dependencies from the registry, or npm's cache), a small program
 * type-checked against their declarations and run against a running service.
 */
describe('the client packages, packed and installed outside the repository', () => {
  let scratch: string;
  let t: TestApp;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'client-packages-'));
    const tarballs = join(scratch, 'tarballs');
    await mkdir(tarballs);
    await npm(ROOT, ['run', 'build', '--workspaces']);
    const packed = JSON.parse(
      // The published packages (the console is private: the service serves it, nobody installs it).
      await npm(ROOT, [
        'pack',
        '--json',
        ...PACKAGES.flatMap((name) => ['--workspace', name]),
        '--pack-destination',
        tarballs,
      ]),
    ) as { name: string; filename: string; files: { path: string }[] }[];
    expect(packed.map((p) => p.name).sort()).toEqual([...PACKAGES].sort());
    for (const p of packed) {
      // Built JavaScript, declarations and the README only: no TypeScript source, no tests.
      expect(
        p.files
          .map((f) => f.path)
          .filter((path) => !/^(dist\/|README\.md$|package\.json$)/.test(path)),
      ).toEqual([]);
    }

    const project = join(scratch, 'consumer');
    await mkdir(project);
    await npm(project, ['init', '-y']);
    const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const specs = Object.fromEntries(
      packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`]),
    );
    // The packages depend on one another by version (0.1.0): the tarballs stand in for the
    // registry (`$name` points an override at the project's own dependency on that name).
    const overrides = Object.fromEntries(packed.map((p) => [p.name, `$${p.name}`]));
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ ...manifest, type: 'module', dependencies: specs, overrides }, null, 2),
    );
    await npm(project, [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '@types/node@24.19.4',
    ]);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          // @trpc/client's declarations name fetch's DOM types (RequestInfo).
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          // The packages' declarations are checked too (no skipLibCheck).
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        include: ['main.ts', 'misuse.ts'],
      }),
    );
    await copyFile(join(PROGRAM, 'main.ts'), join(project, 'main.ts'));
    await copyFile(join(PROGRAM, 'misuse.ts'), join(project, 'misuse.ts'));

    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  const project = () => join(scratch, 'consumer');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

  it('type-checks a program against the packed declarations; misuse of the tRPC client does not compile', async () => {
    // misuse.ts is all @ts-expect-error: tsc fails if one of them compiles.
    const checked = await run(process.execPath, [tsc, '--noEmit', '-p', '.'], {
      cwd: project(),
    }).then(
      () => '',
      (error: unknown) => String((error as { stdout?: string }).stdout),
    );
    expect(checked).toBe('');
    // The program as shipped, with misuse.ts's errors made real: each is reported.
    const misuse = await readFile(join(project(), 'misuse.ts'), 'utf8');
    await writeFile(join(project(), 'misuse.ts'), misuse.replaceAll('// @ts-expect-error', '//'));
    const failed = await run(process.execPath, [tsc, '--noEmit', '-p', '.'], {
      cwd: project(),
    }).then(
      () => '',
      (error: unknown) => String((error as { stdout?: string }).stdout),
    );
    await writeFile(join(project(), 'misuse.ts'), misuse);
    expect(failed.match(/misuse\.ts\(\d+,\d+\): error/g)).toHaveLength(4);
    expect(failed).not.toMatch(/main\.ts/);
  });

  it('runs the program against the service: gRPC client, tRPC client and report verifier', async () => {
    const request = await t.scheduled();
    await t.app.runWorkerPass();
    await run(process.execPath, [tsc, '-p', '.'], { cwd: project() });
    const token = await mintToken({ sub: 'admin-packages', scope: 'deletion:admin' });
    const { stdout } = await run(process.execPath, ['out/main.js'], {
      cwd: project(),
      env: {
        ...process.env,
        DELETION_ADDRESS: `127.0.0.1:${String(t.ports.grpc)}`,
        DELETION_TRPC_URL: t.trpcUrl,
        DELETION_KEYS_URL: `http://127.0.0.1:${String(t.ports.http)}/erasure-report-keys`,
        DELETION_REQUEST: request.name,
        DELETION_TOKEN: token,
      },
    });
    expect(JSON.parse(stdout)).toMatchObject({
      grpcState: 'STATE_COMPLETED',
      trpcState: 'COMPLETED',
      grpcError: 'NOT_FOUND',
      trpcError: 'NOT_FOUND',
    });
  });

  it('runs the packed deletionctl and the conformance kit from node_modules/.bin', async () => {
    const bin = join(project(), 'node_modules', '.bin');
    const help = await run(join(bin, 'deletionctl'), ['--help'], { cwd: project() });
    expect(help.stdout).toContain('Usage: deletionctl');
    const list = await run(join(bin, 'deletionctl'), ['--json', 'list'], {
      cwd: project(),
      env: {
        ...process.env,
        DELETION_ADDRESS: `127.0.0.1:${String(t.ports.grpc)}`,
        DELETION_TOKEN: await mintToken({ sub: 'admin-packages', scope: 'deletion:admin' }),
      },
    });
    expect(list.stdout).toContain('deletionRequests/');
    const usage = await run(join(bin, 'participant-conformance'), [], { cwd: project() }).then(
      () => 0,
      (error: unknown) => (error as { code?: number }).code,
    );
    expect(usage).toBe(2);
  });
});
