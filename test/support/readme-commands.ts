import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The README's quick start as commands a test runs exactly as written
 * (issue 23): the shell commands of a section's sh code blocks, the inline
 * code of its prose, and a shell that runs them one after another and keeps
 * its functions and variables between them, as a reader's terminal does.
 *
 * A command is what a reader types: backslash-continued lines are joined (as
 * bash joins them), a quoted string may span lines (kept as it is), and
 * comments, whole-line or trailing, are left out.
 *
 * Substitution: `<id>` and `<code>` are the only placeholders, and the only
 * change made to a command ({@link fillPlaceholders}). `<id>` is the id of
 * the deletion request the last RequestDeletion answer names (its `name`
 * without `deletionRequests/`: {@link requestIdIn}); `<code>` is the
 * one-time code in the newest message about that request in the last dev
 * mailbox output ({@link codeIn}). Any other `<word>` in a command, or a
 * placeholder with no value yet, is an error: the README has a placeholder
 * this rule does not cover.
 */

/** One command of the README, with the line of README.md it starts on (1-based). */
export interface ReadmeCommand {
  readonly text: string;
  readonly line: number;
}

/** A `##` section of the README: the commands of each of its sh blocks, and its inline code. */
export interface ReadmeSection {
  /** Per sh code block, in README order: its commands. */
  readonly blocks: readonly (readonly ReadmeCommand[])[];
  /** Every `inline code` span of its prose (outside code blocks), in README order. */
  readonly inline: readonly ReadmeCommand[];
}

const FENCE = /^```(\w*)\s*$/;

/** The section of `markdown` under `## heading`; throws when there is no such heading. */
export const readmeSection = (markdown: string, heading: string): ReadmeSection => {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  if (start === -1) throw new Error(`README.md has no section "## ${heading}"`);
  const blocks: ReadmeCommand[][] = [];
  const inline: ReadmeCommand[] = [];
  let block: { language: string; firstLine: number; source: string[] } | undefined;
  for (let index = start + 1; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    const fence = FENCE.exec(line);
    // The next heading of level 1 or 2 ends the section (a `# comment` in a code block does not).
    if (block === undefined && /^#{1,2} /.test(line)) break;
    if (block === undefined && fence !== null)
      block = { language: fence[1] ?? '', firstLine: index + 2, source: [] };
    else if (block === undefined)
      for (const span of line.matchAll(/`([^`]+)`/g))
        inline.push({ text: span[1] ?? '', line: index + 1 });
    else if (fence === null) block.source.push(line);
    else {
      if (block.language === 'sh') blocks.push(shellCommands(block.source, block.firstLine));
      block = undefined;
    }
  }
  return { blocks, inline };
};

type Quote = "'" | '"';

/** A line of shell without its comment, and what it leaves open for the next line. */
interface ScannedLine {
  readonly code: string;
  /** The quote still open at its end: the string goes on on the next line. */
  readonly quote: Quote | undefined;
  /** It ends in a backslash that continues it on the next line (the backslash is not in `code`). */
  readonly continued: boolean;
}

/** Scans one line as bash reads it, starting inside `open` (a quote left open by the line before). */
const scanLine = (line: string, open: Quote | undefined): ScannedLine => {
  let quote = open;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quote === "'") {
      if (char === "'") quote = undefined;
    } else if (char === '\\') {
      if (index === line.length - 1) return { code: line.slice(0, index), quote, continued: true };
      index += 1;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(line[index - 1] ?? '')))
      return { code: line.slice(0, index), quote, continued: false };
  }
  return { code: line, quote, continued: false };
};

/**
 * The commands of a sh block whose first line is README line `firstLine`: a
 * command ends at a line break outside quotes that no backslash escapes.
 */
export const shellCommands = (source: readonly string[], firstLine: number): ReadmeCommand[] => {
  const commands: ReadmeCommand[] = [];
  let pending: { text: string; line: number } | undefined;
  // How the next line joins the pending command: a space, as it is, or after a line break.
  let joining: 'space' | 'as-is' | 'line-break' = 'line-break';
  let quote: Quote | undefined;
  source.forEach((line, index) => {
    const scanned = scanLine(line, quote);
    quote = scanned.quote;
    if (pending === undefined) {
      if (scanned.code.trim() === '' && !scanned.continued) return;
      pending = { text: scanned.code.trimStart(), line: firstLine + index };
    } else if (joining === 'space') pending.text += scanned.code.trimStart();
    else pending.text += joining === 'as-is' ? scanned.code : `\n${scanned.code}`;
    if (scanned.continued) {
      // `a \` + `  b` is `a   b` to bash: written `a b`. A backslash right after a word joins as is.
      const spaced = quote === undefined && /\s$/.test(pending.text);
      if (spaced) pending.text = `${pending.text.trimEnd()} `;
      joining = spaced ? 'space' : 'as-is';
    } else if (quote !== undefined) joining = 'line-break';
    else {
      commands.push({ text: pending.text.trimEnd(), line: pending.line });
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`README.md:${pending.line}: the command never ends`);
  return commands;
};

/** The values of the placeholders, once earlier outputs gave them. */
export interface Placeholders {
  readonly id?: string | undefined;
  readonly code?: string | undefined;
}

/** `command` with `<id>` and `<code>` filled in; throws for any other `<word>` or a missing value. */
export const fillPlaceholders = (command: string, values: Placeholders): string =>
  command.replaceAll(/<(\w+)>/g, (placeholder, name: string) => {
    const value = name === 'id' ? values.id : name === 'code' ? values.code : undefined;
    if (value === undefined)
      throw new Error(
        name === 'id' || name === 'code'
          ? `${placeholder} has no value yet (from an earlier command's output): ${command}`
          : `${placeholder} is not a placeholder the test knows (only <id> and <code>): ${command}`,
      );
    return value;
  });

/** `<id>`: the request a RequestDeletion answer (buf curl's JSON) names, without `deletionRequests/`. */
export const requestIdIn = (answer: string): string => {
  const { name } = JSON.parse(answer) as { name?: unknown };
  if (typeof name !== 'string' || !name.startsWith('deletionRequests/'))
    throw new Error(`no deletionRequests/<id> name in the answer: ${answer}`);
  return name.slice('deletionRequests/'.length);
};

/**
 * `<code>`: the one-time code (a line of digits alone) in the newest message
 * about request `id` that has one, in `npm run -s mailbox` output (newest
 * first); undefined when no such message has arrived yet.
 */
export const codeIn = (mailbox: string, id: string): string | undefined => {
  for (const message of mailbox.split(/^--- /m).slice(1)) {
    const header = message.slice(0, message.indexOf('\n'));
    if (!header.endsWith(`(deletionRequests/${id})`)) continue;
    const code = /^\s+(\d{6,10})\s*$/m.exec(message)?.[1];
    if (code !== undefined) return code;
  }
  return undefined;
};

/** How a command ended in the {@link Shell}, and what it wrote. */
export interface ShellRun {
  /** Its exit status; null when it did not finish in time or the shell ended (it is then stopped). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A bash session, like a terminal's: what one command defines or assigns, the next one sees. */
export interface Shell {
  /** Runs `command` (stdin: /dev/null) and resolves once it ends or `timeoutMs` passed. */
  run(command: string, timeoutMs: number): Promise<ShellRun>;
  /** Ends the session and everything still running in it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts bash (no profile, no rc file) in `cwd` with `env`, in a process group
 * of its own, so that closing it, or a command running past its time, stops
 * whatever it started.
 */
export const startShell = async (cwd: string, env: NodeJS.ProcessEnv): Promise<Shell> => {
  const outputs = await mkdtemp(join(tmpdir(), 'readme-shell-'));
  const bash = spawn('bash', ['--noprofile', '--norc'], {
    cwd,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const marker = `readme-command-done-${randomUUID()}`;
  const ended = new Promise<void>((resolve) => bash.once('close', () => resolve()));
  let ownOutput = '';
  let onMarker: ((line: string) => void) | undefined;
  bash.stderr.on('data', (chunk: Buffer) => (ownOutput += chunk.toString()));
  let buffered = '';
  bash.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines)
      if (line.startsWith(marker)) onMarker?.(line);
      else ownOutput += `${line}\n`;
  });
  // A write to a shell that has just ended fails; run() says so, rather than an unhandled error.
  bash.stdin.on('error', () => undefined);
  /** Kills the shell's process group: the shell, and whatever its commands left running. */
  const kill = (): void => {
    if (bash.pid === undefined) return;
    try {
      process.kill(-bash.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  };
  process.once('exit', kill);
  let count = 0;

  const run = async (command: string, timeoutMs: number): Promise<ShellRun> => {
    if (bash.exitCode !== null || bash.signalCode !== null)
      throw new Error(`the shell has ended (${ownOutput.trim()}): cannot run ${command}`);
    count += 1;
    const out = join(outputs, `${String(count)}.out`);
    const err = join(outputs, `${String(count)}.err`);
    let timer: NodeJS.Timeout | undefined;
    const code = await new Promise<number | null>((resolve) => {
      onMarker = (line) => resolve(Number(line.slice(marker.length + 1)));
      timer = setTimeout(() => resolve(null), timeoutMs);
      void ended.then(() => resolve(null));
      bash.stdin.write(`{\n${command}\n} </dev/null >'${out}' 2>'${err}'; echo "${marker} $?"\n`);
    });
    clearTimeout(timer);
    onMarker = undefined;
    if (code === null) {
      kill();
      await ended;
    }
    const read = (file: string) => readFile(file, 'utf8').catch(() => '');
    const stderr = await read(err);
    return { code, stdout: await read(out), stderr: code === null ? stderr + ownOutput : stderr };
  };

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    bash.stdin.end();
    const timer = setTimeout(kill, 5_000);
    await ended;
    clearTimeout(timer);
    kill();
    process.removeListener('exit', kill);
    await rm(outputs, { recursive: true, force: true });
  };
  return { run, close: () => (closing ??= close()) };
};
