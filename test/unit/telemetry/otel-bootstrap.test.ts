import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** A process that serves one HTTP request to itself, then flushes the SDK. */
const PROBE = `
import { createServer } from 'node:http';
const server = createServer((_request, response) => response.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
await (await fetch('http://127.0.0.1:' + server.address().port + '/probe')).text();
server.close();
await globalThis[Symbol.for('account-deletion-service.telemetry.shutdown')]();
`;

describe('the OpenTelemetry bootstrap on this runtime', () => {
  it('loads its loader hook without a warning and traces an HTTP server', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './src/telemetry/otel-bootstrap.ts',
        '--input-type=module',
        '--eval',
        PROBE,
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          OTEL_TRACES_EXPORTER: 'console',
          OTEL_METRICS_EXPORTER: 'none',
        },
      },
    );
    // No DEP0205 (module.register() is deprecated from Node 26), no other warning.
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("name: '@opentelemetry/instrumentation-http'");
    expect(run.stdout).toMatch(/name: 'GET',\s+id: '[0-9a-f]{16}',\s+kind: 1,/); // SpanKind.SERVER
  });

  it('registers the copy of import-in-the-middle the instrumentations hook into', () => {
    const require = createRequire(import.meta.url);
    const instrumentation = require.resolve('@opentelemetry/instrumentation');
    expect(require.resolve('import-in-the-middle', { paths: [instrumentation] })).toBe(
      require.resolve('import-in-the-middle'),
    );
  });
});
