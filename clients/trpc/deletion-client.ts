import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { context, propagation } from '@opentelemetry/api';
import { EventSource } from 'eventsource';
// The server's router and the views it answers with, as types only: `#router` is
// server-types.ts in the repository, and its emitted declarations in the published package.
import type {
  DeletionErrorData,
  DeletionEventView,
  DeletionRequestView,
  DeletionRouter,
} from '#router';

export type { DeletionErrorData, DeletionEventView, DeletionRequestView, DeletionRouter };

/** The input of every procedure, e.g. `DeletionInputs['cancelDeletion']`. */
export type DeletionInputs = inferRouterInputs<DeletionRouter>;
/** The output of every query and mutation. */
export type DeletionOutputs = inferRouterOutputs<DeletionRouter>;

/** The typed client: `client.getDeletionRequest.query({ name })`, `client.cancelDeletion.mutate(...)`. */
export type DeletionClient = TRPCClient<DeletionRouter>;

/** A failed call. `data.status` and `data.reason` say what failed; `data.fieldErrors` which inputs. */
export type DeletionClientError = TRPCClientError<DeletionRouter>;

/** How calls prove who makes them: a bearer token (or a function giving a fresh one), or an API key. */
export type DeletionClientAuth =
  | { readonly token: string | (() => string | Promise<string>); readonly apiKey?: never }
  | { readonly apiKey: string; readonly token?: never }
  | { readonly token?: never; readonly apiKey?: never };

/** Where the service is and how to call it. */
export type DeletionClientOptions = DeletionClientAuth & {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:8080/trpc`. */
  readonly url: string;
  /** Deadline of each HTTP request (a batch is one request); default 10 s. Subscriptions have none. */
  readonly timeoutMs?: number;
  /** Calls made in the same tick go in one HTTP request (default), at most `maxItems` (default 50). */
  readonly batch?: false | { readonly maxItems?: number };
  /** A fetch to use instead of the global one (tests count requests with it). */
  readonly fetch?: typeof fetch;
  /** Headers every request carries besides the credentials (the console sends its own). */
  readonly headers?: Readonly<Record<string, string>>;
};

type LinkFetch = NonNullable<Parameters<typeof httpLink>[0]['fetch']>;

/** True for an error the service (or tRPC) answered, as opposed to a programming error. */
export const isDeletionClientError = (error: unknown): error is DeletionClientError =>
  error instanceof TRPCClientError;

/**
 * A typed tRPC client of the deletion service. Queries and mutations go over
 * HTTP (batched by default), `watchDeletionRequest` over Server-Sent Events (the
 * `eventsource` package: Node 24 has EventSource only behind a flag), which
 * reconnect and resume on their own. Every request carries the credentials; a token
 * function is called for each request, so it can hand out fresh tokens.
 */
export const createDeletionClient = (options: DeletionClientOptions): DeletionClient => {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const credentials = async (): Promise<Record<string, string>> => {
    // The caller's trace context (W3C traceparent), when it has one: the service continues it.
    const trace: Record<string, string> = {};
    propagation.inject(context.active(), trace);
    return { ...options.headers, ...trace, ...(await authHeaders()) };
  };
  const authHeaders = async (): Promise<Record<string, string>> => {
    if (options.token !== undefined) {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      return { authorization: `Bearer ${token}` };
    }
    return options.apiKey !== undefined ? { 'x-api-key': options.apiKey } : {};
  };
  // A timer, not AbortSignal.timeout(): on Node 20 a timeout signal combined with
  // AbortSignal.any() can be collected before it fires, and the deadline is lost.
  const withDeadline: LinkFetch = (input, init) => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new DOMException('the deadline passed', 'TimeoutError'));
    }, timeoutMs);
    // The deadline also covers reading the body, so the timer is not cleared at the headers;
    // unref() keeps it from holding a finished process open (a browser's timers have none).
    (timer as { unref?: () => void }).unref?.();
    const caller = init?.signal;
    if (caller) {
      if (caller.aborted) controller.abort(caller.reason);
      else caller.addEventListener('abort', () => controller.abort(caller.reason), { once: true });
    }
    return baseFetch(String(input), { ...init, signal: controller.signal });
  };

  const http = {
    url: options.url,
    fetch: withDeadline,
    headers: credentials,
  };
  return createTRPCClient<DeletionRouter>({
    links: [
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        true: httpSubscriptionLink({
          url: options.url,
          EventSource,
          eventSourceOptions: () => ({
            fetch: async (url, init) =>
              baseFetch(url, { ...init, headers: { ...init.headers, ...(await credentials()) } }),
          }),
        }),
        false:
          options.batch === false
            ? httpLink(http)
            : httpBatchLink({ ...http, maxItems: options.batch?.maxItems ?? 50 }),
      }),
    ],
  });
};
