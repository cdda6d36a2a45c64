import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { TEST_SERVICE_ENV } from './test-app.js';

/** The service's own entry (`src/main.ts`) as a process: its log lines, and how it ended. */
export const startMain = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      ...TEST_SERVICE_ENV,
      MONGODB_DB: `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      LOG_LEVEL: 'info',
      ...env,
    },
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
