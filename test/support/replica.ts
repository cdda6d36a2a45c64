import { spawn, type ChildProcess } from 'node:child_process';

/** A running replica and the ports it serves on. */
export type Replica = ChildProcess & { readonly ports: { grpcPort: number; httpPort: number } };

/**
 * Starts a service replica (test/support/worker-process.ts) as a child process;
 * resolves once it serves. `imports` are loaded before it (`node --import`, after
 * tsx), e.g. the OpenTelemetry bootstrap.
 */
export const startReplica = async (
  env: Readonly<Record<string, string>>,
  imports: readonly string[] = [],
): Promise<Replica> => {
  const preload = imports.flatMap((module) => ['--import', module]);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...preload, 'test/support/worker-process.ts'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { grpcPort: number; httpPort: number }));
    child.once('exit', (code) => reject(new Error(`replica exited early (${String(code)})`)));
  });
  return Object.assign(child, { ports });
};

/** Kills a replica with SIGKILL (no clean-up runs) and waits until it is gone. */
export const killReplica = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
};
