import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Collects the service's metrics when the test asks. */
class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point of a metric: a sum, a gauge value or a histogram. */
type Point = DataPoint<number | Histogram>;

/** The points of metric `name` in one collection. */
export const pointsOf = (collected: ResourceMetrics, name: string): Point[] =>
  collected.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Point[]);

/** The total of metric `name` over the points with these attributes: a sum's value, a histogram's count. */
export const totalOf = (
  collected: ResourceMetrics,
  name: string,
  attributes: Readonly<Record<string, unknown>> = {},
): number =>
  pointsOf(collected, name)
    .filter((point) =>
      Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
    )
    .reduce(
      (sum, point) => sum + (typeof point.value === 'number' ? point.value : point.value.count),
      0,
    );

/**
 * Registers an in-memory OpenTelemetry SDK for the test process: every span
 * kept in `exporter`, metrics collected on demand, W3C propagation, async
 * context. The service under test (in this process) uses it through the API.
 */
export const installInMemoryTelemetry = () => {
  const exporter = new InMemorySpanExporter();
  const reader = new TestReader();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return {
    exporter,
    /** Metrics as they stand now (sums and histograms are cumulative). */
    collect: async (): Promise<ResourceMetrics> => (await reader.collect()).resourceMetrics,
    uninstall: (): void => {
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
};
