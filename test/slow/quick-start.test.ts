import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config-schema.js';
import {
  codeIn,
  fillPlaceholders,
  readmeSection,
  requestIdIn,
  startShell,
  type Placeholders,
  type ReadmeCommand,
  type ReadmeSection,
  type Shell,
  type ShellRun,
} from '../support/readme-commands.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

/**
 * The ports the README's commands name (gRPC :50051, HTTP :8080) and those of
 * the example linked services, fixed in scripts/start.ts: the quick start runs
 * on them as written, so two runs of this test (or a developer's `npm start`)
 * cannot overlap, and the test says so rather than talking to someone else's
 * service.
 */
const README_PORTS = [50051, 8080, 50061, 50062, 50063] as const;
const READYZ = 'http://127.0.0.1:8080/readyz';
/**
 * How `npm start` fails when one of them is taken. All but 8080 lie in Linux's
 * ephemeral range (32768–60999): on a busy machine another process's
 * connection or port-0 server can hold one for a moment.
 */
const PORT_TAKEN = /EADDRINUSE|address already in use|No address added/i;
/** The first start may build FerretDB with Go (about 90 s here); later ones take seconds. */
const START_MS = 600_000;
const COMMAND_MS = 60_000;

/** Whether 127.0.0.1:`port` can be listened on now, as the service will listen on it. */
const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** `git` in `cwd`; its output. Never one that writes to the repository it reads. */
const git = async (cwd: string, args: readonly string[]): Promise<string> =>
  (await execFileAsync('git', ['--no-optional-locks', ...args], { cwd })).stdout;

/** Removes the clone made by {@link scratchClone}: the link first, so nothing is removed through it. */
const removeClone = async (clone: string): Promise<void> => {
  await unlink(join(clone, 'node_modules')).catch(() => undefined);
  await rm(dirname(clone), { recursive: true, force: true });
};

/**
 * A clone of the repository the test runs in, in a folder of its own (no
 * `.data`, no `dist`), with the working tree's uncommitted changes and new
 * files copied over: in CI that is HEAD; on a developer's machine it is what
 * they are about to commit, README edits included.
 *
 * node_modules is the repository's, linked rather than installed: `npm ci`
 * takes minutes on two cores and installs the same lock file, and `npm ci`
 * is therefore the one part of the README's first command the test does not
 * run (it would replace the linked folder). `dist` is built by `npm start`
 * itself (its prestart runs `npm run build`).
 */
const scratchClone = async (): Promise<string> => {
  const parent = await mkdtemp(join(tmpdir(), 'quick-start-'));
  const clone = join(parent, 'account-deletion-service');
  try {
    // PostgreSQL runs as its own user and must pass through every folder above its data.
    await chmod(parent, 0o755);
    await git(parent, ['clone', '--quiet', ROOT, clone]);
    const changed = await git(ROOT, ['diff-index', '--name-only', '--no-renames', '-z', 'HEAD']);
    const added = await git(ROOT, ['ls-files', '--others', '--exclude-standard', '-z']);
    for (const path of `${changed}${added}`.split('\0')) {
      // A node_modules that is a link is not ignored by `node_modules/` (a folder): left out.
      if (path === '' || path === 'node_modules') continue;
      const from = join(ROOT, path);
      const to = join(clone, path);
      if (!existsSync(from)) await rm(to, { force: true });
      else {
        await mkdir(dirname(to), { recursive: true });
        await cp(from, to);
      }
    }
    await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    return clone;
  } catch (error) {
    await removeClone(clone);
    throw error;
  }
};

/**
 * A developer's terminal: this process's environment without the service's
 * settings (the configuration's names, EXAMPLE_SERVICES, the clients'
 * DELETION_* and OTEL_*) and what vitest adds, so that the README runs with
 * its defaults wherever the test runs (CI may set MONGODB_URI, for one).
 */
const terminalEnvironment = (): NodeJS.ProcessEnv => {
  const settings = new Set([
    ...Object.keys(configSchema.shape),
    'EXAMPLE_SERVICES',
    'NODE_ENV',
    'TEST',
  ]);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !settings.has(name) && !/^(DELETION_|OTEL_|VITEST)/.test(name),
    ),
  );
};

/** Sends `signal` to process group `group`; false when it has no process left. */
const signalGroup = (group: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-group, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
};

/** Resolves true once process group `group` has no process left, false after `timeoutMs`. */
const groupGone = async (group: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (signalGroup(group, 0)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
};

/** A running `npm start` (as a README command), in a process group of its own. */
interface Service {
  readonly command: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  hasExited(): boolean;
  /** Its output so far. */
  output(): string;
  /** Its last lines, for failure messages. */
  tail(): string;
}

/**
 * Runs `command` with bash as a terminal runs a job: in a process group of
 * its own, which {@link stopService} signals.
 */
const startService = (command: string, cwd: string): Service => {
  const child = spawn('bash', ['-c', command], {
    cwd,
    env: terminalEnvironment(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let done = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve())).finally(
    () => (done = true),
  );
  // Should the test's process end before it is stopped, nothing it started is left behind.
  const group = child.pid;
  if (group !== undefined) process.once('exit', () => signalGroup(group, 'SIGKILL'));
  return {
    command,
    child,
    exited,
    hasExited: () => done,
    output: () => output,
    tail: () => output.trimEnd().split('\n').slice(-40).join('\n'),
  };
};

/** Waits until the service answers /readyz; fails with its output if it exits or takes too long. */
const waitUntilReady = async (service: Service): Promise<void> => {
  const deadline = Date.now() + START_MS;
  while (Date.now() < deadline) {
    if (service.hasExited())
      throw new Error(`\`${service.command}\` exited before it was ready:\n${service.tail()}`);
    const ready = await fetch(READYZ, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(500);
  }
  throw new Error(`\`${service.command}\` was not ready within ${START_MS} ms:\n${service.tail()}`);
};

/**
 * Stops the service with SIGTERM and resolves whether every process it
 * started was gone within a minute (else they are SIGKILLed). The signal goes
 * to the command's own process only, as a supervisor sends it (a terminal's
 * Ctrl-C signals the whole group): npm passes it to the start script, which
 * `exec`s node, so the service shuts down in order and takes its database
 * and example services with it.
 */
const stopService = async (service: Service): Promise<boolean> => {
  const group = service.child.pid;
  if (group === undefined) return true;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    // Gone already.
  }
  const graceful = await groupGone(group, 60_000);
  if (!graceful) {
    signalGroup(group, 'SIGKILL');
    await groupGone(group, 10_000);
  }
  await service.exited;
  return graceful;
};

/** The one command of `commands` matching `pattern`; fails naming the pattern otherwise. */
const theCommand = (commands: readonly ReadmeCommand[], pattern: RegExp): ReadmeCommand => {
  const found = commands.filter((command) => pattern.test(command.text));
  expect(
    found.map((command) => command.text),
    `one README command matches ${String(pattern)}`,
  ).toHaveLength(1);
  return found[0]!;
};

/** The sh block of `section` holding a command that matches `pattern`. */
const theBlock = (section: ReadmeSection, pattern: RegExp): readonly ReadmeCommand[] => {
  const found = section.blocks.filter((block) =>
    block.some((command) => pattern.test(command.text)),
  );
  expect(found, `one README block has a command matching ${String(pattern)}`).toHaveLength(1);
  return found[0]!;
};

/** What a README command printed, and its description for failure messages. */
interface Ran {
  readonly stdout: string;
  readonly what: string;
}

/** What it printed, as JSON; fails with its description when it is not JSON. */
const json = (ran: Ran): unknown => {
  try {
    return JSON.parse(ran.stdout);
  } catch {
    throw new Error(`not JSON:\n${ran.what}`);
  }
};

/** The end of a long output, for failure messages. */
const clip = (text: string): string => (text.length > 3_000 ? `…${text.slice(-3_000)}` : text);

/** A command as it ran, for failure messages: where the README has it, and what it did. */
const described = (command: ReadmeCommand, text: string, run: ShellRun): string =>
  [
    `README.md:${command.line}: ${text}`,
    run.code === null ? 'did not finish in time' : `exited ${run.code}`,
    `--- stdout\n${clip(run.stdout)}`,
    `--- stderr\n${clip(run.stderr)}`,
  ].join('\n');

/** An outcome the README states for the command matching the pattern: runs and checks it. */
type Outcome = readonly [RegExp, (command: ReadmeCommand) => Promise<unknown>];

describe('the README quick start, as written, on a fresh npm start in a scratch clone', () => {
  let clone: string | undefined;
  let shell: Shell | undefined;
  let service: Service | undefined;
  let twoCommands: ReadmeSection;
  let deletion: ReadmeSection;
  let consoleSection: ReadmeSection;
  const values: { -readonly [key in keyof Placeholders]: Placeholders[key] } = {};

  let failed: string | undefined;
  beforeEach(({ skip, onTestFailed, task }) => {
    if (failed !== undefined) skip(`an earlier step failed: ${failed}`);
    onTestFailed(() => {
      failed = task.name;
    });
  });

  beforeAll(async () => {
    clone = await scratchClone();
    const readme = await readFile(join(clone, 'README.md'), 'utf8');
    twoCommands = readmeSection(readme, 'Two commands');
    deletion = readmeSection(readme, 'A deletion from the command line');
    consoleSection = readmeSection(readme, 'The operations console');
    shell = await startShell(clone, terminalEnvironment());
  }, 120_000);

  afterAll(async () => {
    if (service !== undefined) await stopService(service);
    await shell?.close();
    if (clone !== undefined) await removeClone(clone);
  }, 120_000);

  /** Runs a README command as written, its placeholders filled; fails naming it unless it exits 0. */
  const run = async (command: ReadmeCommand, timeoutMs = COMMAND_MS): Promise<Ran> => {
    const text = fillPlaceholders(command.text, values);
    const ran = await shell!.run(text, timeoutMs);
    const what = described(command, text, ran);
    expect(ran.code, what).toBe(0);
    return { stdout: ran.stdout, what };
  };

  /** Runs it again, as a reader would, until `until` holds for what it prints (a minute at most). */
  const rerun = async (
    command: ReadmeCommand,
    until: (stdout: string) => boolean,
  ): Promise<Ran> => {
    const deadline = Date.now() + COMMAND_MS;
    for (;;) {
      const ran = await run(command);
      if (until(ran.stdout) || Date.now() > deadline) return ran;
      await sleep(1_000);
    }
  };

  /** Runs `commands` in README order, each matching one of `outcomes` checked by it. */
  const runInOrder = async (
    commands: readonly ReadmeCommand[],
    outcomes: readonly Outcome[],
  ): Promise<void> => {
    for (const [pattern] of outcomes) theCommand(commands, pattern);
    for (const command of commands) {
      const outcome = outcomes.find(([pattern]) => pattern.test(command.text));
      await (outcome === undefined ? run(command) : outcome[1](command));
    }
  };

  /**
   * Starts `command` (an `npm start` of the README) once the README's ports
   * are free; once more if one was taken while it started (see PORT_TAKEN).
   */
  const start = async (command: string): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      for (const port of README_PORTS)
        expect(
          await canListen(port),
          `port ${port} is taken: the quick start runs on the README's ports; stop what listens there (another npm start?)`,
        ).toBe(true);
      const starting = startService(command, clone!);
      service = starting;
      try {
        await waitUntilReady(starting);
        return;
      } catch (error) {
        if (!starting.hasExited() || !PORT_TAKEN.test(starting.output())) throw error;
        await stopService(starting);
        service = undefined;
        if (attempt === 2)
          throw new Error(`a README port was taken while it started, twice: ${String(error)}`);
        process.stderr.write(`[quick-start] a README port was taken while it started: again\n`);
      }
    }
  };

  /** Stops the running service with SIGTERM: it must shut down in good order. */
  const stop = async (): Promise<void> => {
    const stopping = service!;
    const graceful = await stopService(stopping);
    service = undefined;
    expect(graceful, `${stopping.command} did not stop on SIGTERM:\n${stopping.tail()}`).toBe(true);
    expect(stopping.output(), stopping.tail()).toContain('"msg":"shut down"');
  };

  /** Steps 1–3 of the README's first block: a request, its code from the dev mailbox, confirmed. */
  const requestOutcomes = (confirmed: string): Outcome[] => [
    [
      /^call RequestDeletion /,
      async (command) => {
        const { stdout, what } = await run(command);
        expect(stdout, what).toContain('"state": "STATE_REQUESTED"');
        values.id = requestIdIn(stdout);
        values.code = undefined;
      },
    ],
    [
      /^npm run -s mailbox /,
      async (command) => {
        const id = values.id!;
        const { stdout, what } = await rerun(command, (out) => codeIn(out, id) !== undefined);
        values.code = codeIn(stdout, id);
        expect(
          values.code,
          `no code for deletionRequests/${id} in the mailbox:\n${what}`,
        ).toBeDefined();
      },
    ],
    [
      /^call ConfirmDeletion /,
      async (command) => {
        const { stdout, what } = await run(command);
        expect(stdout, what).toContain(`"state": "${confirmed}"`);
      },
    ],
  ];

  /** The commands of steps 1–3 (a token, the request, the mailbox, the confirmation). */
  const stepsOneToThree = (): readonly ReadmeCommand[] => {
    const block = theBlock(deletion, /^call RequestDeletion /);
    const first = block.indexOf(theCommand(block, /^TOKEN=/));
    return block.slice(first, block.indexOf(theCommand(block, /^call ConfirmDeletion /)) + 1);
  };

  /**
   * A call the prose names (`GetDeletionRequest`, `GetErasureReport`) made as
   * the README makes its calls: its UndeleteDeletionRequest command with the
   * method named instead, at the line of the prose that names it.
   */
  const namedCall = (method: string): ReadmeCommand => {
    const undelete = theCommand(theBlock(deletion, /^call Undelete/), /^call Undelete/);
    const mention = deletion.inline.find((span) => span.text === method);
    expect(mention, `the README names ${method}`).toBeDefined();
    const text = undelete.text.replace(/^call UndeleteDeletionRequest /, `call ${method} `);
    expect(text, `the README's UndeleteDeletionRequest call, as ${method}`).not.toBe(undelete.text);
    return { text, line: mention!.line };
  };

  it(
    'starts with `npm start`, the first of its two commands (npm ci: node_modules is linked)',
    async () => {
      const [install, startCommand, ...rest] = theCommand(
        twoCommands.blocks.flat(),
        /npm start/,
      ).text.split(' && ');
      expect([install, rest]).toEqual(['npm ci', []]);
      await start(startCommand!);
    },
    START_MS,
  );

  it('deletes from the command line: request, code from the mailbox, confirm (SCHEDULED), undelete, list', async () => {
    await runInOrder(theBlock(deletion, /^call RequestDeletion /), [
      ...requestOutcomes('STATE_SCHEDULED'),
      [
        /^call UndeleteDeletionRequest /,
        async (command) => {
          const { stdout, what } = await run(command);
          expect(stdout, what).toContain('"state": "STATE_RESTORED"');
        },
      ],
      [
        /^call ListDeletionRequests /,
        async (command) => {
          const { stdout, what } = await run(command);
          expect(stdout, what).toContain(`"name": "deletionRequests/${values.id!}"`);
        },
      ],
    ]);
  }, 180_000);

  it(
    'stops on SIGTERM and starts again as `GRACE_PERIOD_SECONDS=0 npm start`',
    async () => {
      await stop();
      await start(theCommand(deletion.inline, /^GRACE_PERIOD_SECONDS=0 npm start$/).text);
    },
    START_MS + 120_000,
  );

  it("purges a confirmed request at once: each linked service's step, STATE_COMPLETED, the signed report", async () => {
    await runInOrder(stepsOneToThree(), requestOutcomes('STATE_SCHEDULED'));

    const got = await rerun(namedCall('GetDeletionRequest'), (out) =>
      out.includes('"state": "STATE_COMPLETED"'),
    );
    expect(got.stdout, got.what).toContain('"state": "STATE_COMPLETED"');
    const { participants } = json(got) as {
      participants: { participant: string; status: string; outcome: string }[];
    };
    expect(
      Object.fromEntries(participants.map((step) => [step.participant, step.outcome])),
      got.what,
    ).toEqual({ billing: 'RETAINED', messaging: 'ERASED', analytics: 'ERASED' });

    const report = await run(namedCall('GetErasureReport'));
    const signed = json(report) as { payload: string; signature: string };
    expect(signed.signature, report.what).not.toBe('');
    expect(JSON.parse(signed.payload), report.what).toMatchObject({
      deletionRequest: `deletionRequests/${values.id!}`,
      subjectId: 'alice',
    });
  }, 180_000);

  it("has Bob's request wait in STATE_AWAITING_APPROVAL until someone else approves it", async () => {
    // The prose has the reader make Bob's request: steps 1–3 as bob instead of alice.
    const asBob = stepsOneToThree().map((command) => ({
      ...command,
      text: command.text.replaceAll(/\balice\b/g, 'bob'),
    }));
    await runInOrder(asBob, requestOutcomes('STATE_AWAITING_APPROVAL'));
    await runInOrder(theBlock(deletion, /^call ApproveDeletion /), [
      [
        /^call ApproveDeletion /,
        async (command) => {
          const { stdout, what } = await run(command);
          expect(stdout, what).toContain('"state": "STATE_SCHEDULED"');
        },
      ],
    ]);
  }, 180_000);

  it('follows it over tRPC until COMPLETED, and deletionctl tells its whole story', async () => {
    await runInOrder(theBlock(deletion, /clients\/trpc\/example\.ts/), [
      [
        /^node --import tsx clients\/trpc\/example\.ts /,
        async (command) => {
          const { stdout, what } = await run(command, 120_000);
          expect(stdout, what).toMatch(/→ COMPLETED|is COMPLETED/);
        },
      ],
      [
        /^curl -sg .*getDeletionRequest/,
        async (command) => {
          const ran = await run(command);
          expect(json(ran), ran.what).toMatchObject({
            result: { data: { name: `deletionRequests/${values.id!}`, state: 'COMPLETED' } },
          });
        },
      ],
      [
        /^npx deletionctl timeline /,
        async (command) => {
          const { stdout, what } = await run(command);
          expect(stdout, what).toContain('ERASING → COMPLETED');
        },
      ],
    ]);
  }, 180_000);

  it('verifies the signed report with `deletionctl report` and with openssl alone', async () => {
    const report = await run(theCommand(deletion.inline, /^npx deletionctl report /));
    expect(report.stdout, report.what).toContain('signature valid');

    await runInOrder(theBlock(deletion, /^openssl /), [
      [
        /getErasureReport.*> report\.json$/,
        async (command) => {
          const { what } = await run(command);
          // curl -s exits 0 on an HTTP error too: what it saved must be the report.
          const saved = await readFile(join(clone!, 'report.json'), 'utf8');
          expect(saved, `${what}\n--- report.json\n${clip(saved)}`).toContain('"signature"');
        },
      ],
      [
        /^openssl pkeyutl -verify /,
        async (command) => {
          const { stdout, what } = await run(command);
          expect(stdout, what).toContain('Signature Verified Successfully');
        },
      ],
    ]);
  }, 180_000);

  it('serves the console where the README says, and signs in with the key and the token it names', async () => {
    const url = theCommand(consoleSection.inline, /^http:\/\/127\.0\.0\.1:8080\/console$/).text;
    const page = await fetch(url);
    expect(page.status, url).toBe(200);
    expect(await page.text(), url).toMatch(
      /<script type="module" crossorigin src="\/console\/assets\//,
    );
    const signIn = (credential: string) =>
      fetch(`${url}/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-console-request': '1' },
        body: JSON.stringify({ credential }),
      });
    const key = theCommand(consoleSection.inline, /^dev-support-console-key$/).text;
    const operator = await signIn(key);
    expect(operator.status, key).toBe(200);
    const { allowed } = (await operator.json()) as { allowed: string[] };
    expect(allowed, key).toEqual(
      expect.arrayContaining(['approveDeletion', 'resumeErasures', 'listAuditEvents']),
    );
    const { stdout, what } = await run(
      theCommand(consoleSection.blocks.flat(), /^npm run -s token /),
    );
    const approver = await signIn(stdout.trim());
    expect(approver.status, what).toBe(200);
    const viewer = (await approver.json()) as { actor: { id: string }; allowed: string[] };
    expect(viewer.actor.id, what).toBe('ada');
    expect(viewer.allowed, what).toContain('approveDeletion');
    expect(viewer.allowed, what).not.toContain('resumeErasures');
  }, 120_000);

  it('stops on SIGTERM', async () => {
    await stop();
    for (const port of README_PORTS) expect(await canListen(port), `port ${port}`).toBe(true);
  }, 120_000);
});
