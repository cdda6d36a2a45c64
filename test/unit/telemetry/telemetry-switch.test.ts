import { describe, expect, it } from 'vitest';
import {
  instrumentationEnabled,
  telemetryWanted,
} from '../../../src/telemetry/telemetry-switch.js';

describe('telemetryWanted: the SDK loads only when the OTEL_* variables ask for it', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'prometheus' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_SERVICE_NAME: 'x' }, false],
  ])('%o → %s', (env, wanted) => {
    expect(telemetryWanted(env)).toBe(wanted);
  });
});

describe('instrumentationEnabled: optional instrumentations by OTEL_NODE_ENABLED_INSTRUMENTATIONS', () => {
  it.each([
    [{}, false],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'mongodb' }, true],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, mongodb' }, true],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'mongodb-core,http' }, false],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: '' }, false],
  ])('%o → mongodb %s', (env, enabled) => {
    expect(instrumentationEnabled(env, 'mongodb')).toBe(enabled);
  });
});
