// The OpenTelemetry SDK, loaded before the service: `node --import
// ./dist/telemetry/otel-bootstrap.js dist/main.js` (`npm start` does it). It is
// configured only by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, ...). Without an OTLP endpoint or
// an exporter named, or with OTEL_SDK_DISABLED=true, it loads nothing: the
// service's spans go to the API's no-op tracer and cost next to nothing.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { instrumentationEnabled, telemetryWanted, TELEMETRY_SHUTDOWN } from './telemetry-switch.js';

if (telemetryWanted(process.env)) {
  // The ESM loader hook first, so modules imported after it can be instrumented. It
  // runs in this thread through module.registerHooks() (module.register(), on a
  // loader thread, is deprecated from Node 26: DEP0205), which needs Node >= 24.11.1
  // (engines.node). import-in-the-middle is the copy the instrumentations use
  // (package.json pins the same version), so their hooks reach this loader.
  const { register } = await import('import-in-the-middle/register-hooks.mjs');
  register();
  const { NodeSDK, resources } = await import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const { MongoDBInstrumentation } = await import('@opentelemetry/instrumentation-mongodb');
  const { version } = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win over these defaults.
    resource: resources.resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME ?? 'account-deletion-service',
      'service.version': version,
      'service.instance.id': `${hostname()}/${String(process.pid)}`,
    }),
    instrumentations: [
      // The HTTP server span is the parent of tRPC's spans; health probes are not traced.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          request.url === '/healthz' || request.url === '/readyz',
        // tRPC queries carry their input (ids of people among them) in the query string:
        // the span keeps the path only.
        requestHook: (span, request) => {
          // An incoming request has a url (an outgoing one has a path instead).
          if ('url' in request && request.url?.includes('?') === true)
            span.setAttribute('url.query', 'REDACTED');
        },
        // Outgoing HTTP (the identity provider's keys) needs no spans of its own here.
        ignoreOutgoingRequestHook: () => true,
      }),
      // The driver's spans, one per command, only when asked for
      // (OTEL_NODE_ENABLED_INSTRUMENTATIONS=mongodb): every database call already
      // has the service's span (persistence.<collection>.<operation>, with
      // db.system.name), and a second span per command cost a read about a tenth of
      // its CPU (test/bench/tracing-overhead.ts). Statements are scrubbed of
      // values (enhancedDatabaseReporting stays off).
      ...(instrumentationEnabled(process.env, 'mongodb') ? [new MongoDBInstrumentation()] : []),
    ],
    // gRPC is traced by the service itself (telemetry/rpc-spans.ts), so no grpc
    // instrumentation: it would name every call twice.
  });
  sdk.start();
  (globalThis as Record<symbol, unknown>)[TELEMETRY_SHUTDOWN] = () => sdk.shutdown();
}
