import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    restoreMocks: true,
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
          // One file at a time: they share one database server and two cores, and
          // the fan-out timing and crash tests must not compete with each other.
          fileParallelism: false,
          testTimeout: 60_000,
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
