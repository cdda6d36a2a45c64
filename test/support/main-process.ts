import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { TEST_SERVICE_ENV } from './test-app.js';

/**
 * The service's production entry (`src/main.ts`, what `node dist/main.js`
 * runs) as a process: its log lines, and how it ended. Notices go to SMTP on
 * a port where nothing listens (production has no dev mailbox); `unset`
 * names variables of this process's environment the child does not get.
 */
export const startMain = (env: Record<string, string>, unset: readonly string[] = []) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: withoutKeys(unset, {
      ...process.env,
      ...TEST_SERVICE_ENV,
      MONGODB_DB: `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      LOG_LEVEL: 'info',
      NOTIFIER: 'smtp',
      SMTP_URL: 'smtp://127.0.0.1:9',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete)
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, lines, exited, stderr: () => stderr };
};

/** `env` without the variables named. */
const withoutKeys = (
  names: readonly string[],
  env: Record<string, string | undefined>,
): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
