import { spawn, type ChildProcess } from 'node:child_process';

/** Starts a service replica (test/support/worker-process.ts) as a child process; resolves once it serves. */
export const startReplica = async (
  env: Readonly<Record<string, string>>,
): Promise<ChildProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`replica exited early (${String(code)})`)));
  });
  return child;
};

/** Kills a replica with SIGKILL (no clean-up runs) and waits until it is gone. */
export const killReplica = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};
