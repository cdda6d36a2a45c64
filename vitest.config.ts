import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// The client packages (clients/*, imported by their names @account-deletion/…) resolve to
// their TypeScript source, as in tsc (tsconfig.json customConditions), not to their build.
// Otherwise vitest's own default: Vite's server conditions without `module` (not always
// native ESM).
const conditions = [
  'account-deletion-source',
  ...defaultServerConditions.filter((condition) => condition !== 'module'),
];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    restoreMocks: true,
    // expect.poll waits for what another process or a background task does: on a loaded
    // machine that can take seconds (the default is one).
    expect: { poll: { timeout: 10_000 } },
    // Two files at a time, also on two cores: most of a test's time is spent waiting on
    // the database server and other processes, not on this one's CPU.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        // Type-level tests: tsc checks them (expectTypeOf, @ts-expect-error); nothing runs.
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'] },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/reliability/**/*.test.ts',
            'test/security/**/*.test.ts',
          ],
          globalSetup: ['./test/global-setup.ts'],
          // Files run side by side: each has databases of its own on the shared server, and
          // no test asserts on elapsed time.
          fileParallelism: true,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // One contract per port, run against its in-memory fake and its real adapter (each file
        // has databases of its own on the shared server), so the two cannot drift apart.
        extends: true,
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          globalSetup: ['./test/global-setup.ts'],
          fileParallelism: true,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The slow tier: several replicas, crashes, shutdowns and outages of real processes,
        // the benchmark smoke run. `npm run test:slow`; CI runs it after `npm test`.
        extends: true,
        test: {
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          globalSetup: ['./test/global-setup.ts'],
          // One file at a time: they start processes and kill them, on two cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The operations console in headless Chromium (Debian's `chromium`; CHROMIUM_PATH
        // elsewhere), driven by playwright-core against a service on a free port. Not part of
        // `npm test`: run with `npm run test:console` (CI does).
        extends: true,
        test: {
          name: 'console',
          include: ['test/console/**/*.test.ts'],
          globalSetup: ['./test/global-setup.ts', './test/console/build-console.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // A real trace backend (Jaeger, built once with go: about ten minutes the first
        // time). Not part of `npm test`: run with `npm run test:trace-backend` (CI does).
        extends: true,
        test: {
          name: 'trace-backend',
          include: ['test/trace-backend/**/*.test.ts'],
          globalSetup: ['./test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 1_500_000,
        },
      },
    ],
  },
});
