import type { AnyRouter } from '@trpc/server';

/** One procedure of a router and how it is called over HTTP. */
export interface RawProcedure {
  readonly path: string;
  readonly type: 'query' | 'mutation' | 'subscription';
}

/** Every procedure of a router, nested routers included (tRPC flattens them to dotted paths). */
export const proceduresOf = (router: AnyRouter): RawProcedure[] =>
  Object.entries(router._def.procedures as Record<string, { _def: RawProcedure }>).map(
    ([path, procedure]) => ({ path, type: procedure._def.type }),
  );

/**
 * How a call ended: the HTTP status and the tRPC code (`OK` for a result, the
 * error's `data.code` otherwise, `HTTP_<status>` when the body is not tRPC's,
 * `CLIENT_TIMEOUT` when nothing came in time).
 */
export interface TrpcOutcome {
  readonly status: number;
  readonly code: string;
  /** The length of the URL of a GET, whose input rides in the query string. */
  readonly urlLength: number;
}

const codeOfBody = (status: number, text: string): string => {
  try {
    const body = JSON.parse(text) as { error?: { data?: { code?: string } } };
    if (body.error === undefined) return 'OK';
    return body.error.data?.code ?? `HTTP_${String(status)}`;
  } catch {
    return `HTTP_${String(status)}`;
  }
};

/** The first event of an SSE stream that is not `connected` or `ping`: a result (OK) or an error. */
const firstEvent = async (response: Response): Promise<string> => {
  if (response.body === null) return `HTTP_${String(response.status)}`;
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    const blocks = buffered.split('\n\n');
    buffered = blocks.pop() ?? '';
    for (const block of blocks) {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      if (event === 'connected' || event === 'ping') continue;
      if (event === 'serialized-error') return codeOfBody(response.status, `{"error":${data}}`);
      return 'OK';
    }
  }
  return 'STREAM_ENDED';
};

/**
 * Calls a procedure over real HTTP with any input text (which need not be
 * JSON): a mutation as a POST body, a query or subscription as `?input=`. A
 * subscription is read to its first event. Bounded by `timeoutMs`.
 */
export const callTrpc = async (
  baseUrl: string,
  call: {
    readonly procedure: RawProcedure;
    readonly input: string | undefined;
    readonly headers: Readonly<Record<string, string>>;
  },
  timeoutMs = 10_000,
): Promise<TrpcOutcome> => {
  const { procedure, input, headers } = call;
  const post = procedure.type === 'mutation';
  const url =
    `${baseUrl}/${procedure.path}` +
    (post || input === undefined ? '' : `?input=${encodeURIComponent(input)}`);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: post ? 'POST' : 'GET',
      headers: { ...headers, ...(post && { 'content-type': 'application/json' }) },
      ...(post && input !== undefined && { body: input }),
      signal,
    });
    const streamed = response.headers.get('content-type')?.startsWith('text/event-stream');
    const code = streamed
      ? await firstEvent(response)
      : codeOfBody(response.status, await response.text());
    return { status: response.status, code, urlLength: post ? 0 : url.length };
  } catch (error) {
    if (signal.aborted) return { status: 0, code: 'CLIENT_TIMEOUT', urlLength: url.length };
    throw error;
  }
};
