/** Where the bootstrap leaves the function that flushes and stops the SDK. */
export const TELEMETRY_SHUTDOWN = Symbol.for('account-deletion-service.telemetry.shutdown');

/** The names of a comma-separated OTEL_* variable, trimmed, without empty ones. */
const namesIn = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');

const exporterNamed = (value: string | undefined): boolean =>
  namesIn(value).some((name) => name !== 'none');

/**
 * Whether the OTEL_* variables ask for telemetry: an OTLP endpoint, or a
 * traces or metrics exporter named, and the SDK not disabled.
 */
export const telemetryWanted = (env: Readonly<Record<string, string | undefined>>): boolean =>
  env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true' &&
  (Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    exporterNamed(env.OTEL_TRACES_EXPORTER) ||
    exporterNamed(env.OTEL_METRICS_EXPORTER));

/**
 * Whether OTEL_NODE_ENABLED_INSTRUMENTATIONS (the variable of
 * auto-instrumentations-node: names without their package prefix, comma
 * separated) turns on the optional instrumentation `name`.
 */
export const instrumentationEnabled = (
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): boolean => namesIn(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS).includes(name);

/** Flushes and stops the SDK the bootstrap started, if it started one. */
export const shutdownTelemetry = async (): Promise<void> => {
  const shutdown = (globalThis as Record<symbol, unknown>)[TELEMETRY_SHUTDOWN];
  if (typeof shutdown === 'function') await (shutdown as () => Promise<void>)();
};
