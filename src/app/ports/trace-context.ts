import type { TraceLink } from '../../domain/deletion-request.js';

/** Tracing as the use cases see it: the current trace id, and a span around a step. */
export interface TraceContext {
  /** The trace and span ids of the active span ('' outside any). */
  current(): { readonly traceId: string; readonly spanId: string };
  /** Runs `fn` in a span (a new trace when none is active). Attributes are ids, never personal data. */
  inSpan<T>(
    name: string,
    attributes: Readonly<Record<string, string>>,
    fn: () => Promise<T>,
  ): Promise<T>;
  /** Notes something that happened in the active span (e.g. a retry scheduled). Ids only. */
  event(name: string, attributes: Readonly<Record<string, string>>): void;
  /** Adds what a step found out (e.g. a linked service's answer) to the active span. Ids only. */
  annotate(attributes: Readonly<Record<string, string>>): void;
  /** Runs `fn` in the root span of a new trace, linked to spans of earlier traces. */
  inLinkedSpan<T>(
    span: {
      readonly name: string;
      readonly attributes: Readonly<Record<string, string>>;
      readonly links: readonly TraceLink[];
    },
    fn: () => Promise<T>,
  ): Promise<T>;
}
