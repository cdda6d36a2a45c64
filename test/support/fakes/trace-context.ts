import { AsyncLocalStorage } from 'node:async_hooks';
import type { TraceContext } from '../../../src/app/ports/trace-context.js';
import type { TraceLink } from '../../../src/domain/deletion-request.js';

/** A span the fake recorded. */
export interface FakeSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  /** The span it ran in ('' for a root). */
  readonly parentSpanId: string;
  readonly attributes: Record<string, string>;
  readonly events: {
    readonly name: string;
    readonly attributes: Readonly<Record<string, string>>;
  }[];
  readonly links: readonly TraceLink[];
  /** Whether its work failed. */
  failed: boolean;
}

/** Tracing that records spans in memory, with ids that count up. */
export interface FakeTraceContext extends TraceContext {
  /** Every span started so far, in start order. */
  readonly spans: readonly FakeSpan[];
}

const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0');

/** A fake trace context: each `inSpan` outside a span starts a trace, inside one a child. */
export const fakeTraceContext = (): FakeTraceContext => {
  const spans: FakeSpan[] = [];
  const active = new AsyncLocalStorage<FakeSpan>();
  let traces = 0;
  const start = <T>(
    span: Omit<FakeSpan, 'spanId' | 'events' | 'failed'>,
    fn: () => Promise<T>,
  ): Promise<T> => {
    const started: FakeSpan = {
      ...span,
      spanId: hex(spans.length + 1, 16),
      events: [],
      failed: false,
    };
    spans.push(started);
    return active.run(started, async () => {
      try {
        return await fn();
      } catch (error) {
        started.failed = true;
        throw error;
      }
    });
  };
  const newTrace = (): string => {
    traces += 1;
    return hex(traces, 32);
  };
  return {
    spans,
    current: () => {
      const span = active.getStore();
      return span === undefined
        ? { traceId: '', spanId: '' }
        : { traceId: span.traceId, spanId: span.spanId };
    },
    inSpan: (name, attributes, fn) => {
      const parent = active.getStore();
      return start(
        {
          name,
          traceId: parent?.traceId ?? newTrace(),
          parentSpanId: parent?.spanId ?? '',
          attributes: { ...attributes },
          links: [],
        },
        fn,
      );
    },
    inLinkedSpan: (span, fn) =>
      start(
        {
          name: span.name,
          traceId: newTrace(),
          parentSpanId: '',
          attributes: { ...span.attributes },
          links: span.links.map((link) => ({ ...link })),
        },
        fn,
      ),
    event: (name, attributes) => {
      active.getStore()?.events.push({ name, attributes: { ...attributes } });
    },
    annotate: (attributes) => {
      const span = active.getStore();
      if (span !== undefined) Object.assign(span.attributes, attributes);
    },
  };
};
