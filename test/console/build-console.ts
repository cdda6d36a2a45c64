import { execFileSync } from 'node:child_process';

/**
 * Builds the console before its browser tests (about a second), so they drive
 * what the service serves from this checkout, never a stale build.
 * Default export because vitest's globalSetup requires it.
 */
export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--workspace', '@account-deletion/console'], {
    stdio: 'inherit',
    // The build users get: vitest sets NODE_ENV=test, which would make Vite bundle React's
    // development build (half again as large, and not what the service serves).
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
