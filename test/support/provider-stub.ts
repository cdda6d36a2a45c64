import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A request the stub received. */
export interface ProviderRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the stub answers: a status and a JSON body (and headers). */
export interface ProviderAnswer {
  readonly status: number;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Never answer (the connection stays open until the stub stops). */
  readonly hang?: boolean;
  /** Answer after this long (a slow provider). */
  readonly delayMs?: number;
}

/**
 * A real HTTP server on 127.0.0.1 standing in for an SMS provider or a push
 * gateway: it records every request and answers the queued answers in turn,
 * then `fallback` (by default 201 with a fresh message id, `sid` and `id`).
 * Requests carrying an `idempotency-key` it already accepted are answered as
 * accepted again and not kept twice in `accepted`, as an idempotent provider does.
 */
export interface ProviderStub extends AsyncDisposable {
  readonly url: string;
  readonly requests: ProviderRequest[];
  /** The requests it accepted (2xx), once per idempotency key. */
  readonly accepted: ProviderRequest[];
  /** Answers the next requests with these, in order. */
  queue(...answers: ProviderAnswer[]): void;
}

export const startProviderStub = async (
  options: {
    /** Serve HTTPS with this certificate and key (PEM). */
    readonly tls?: { readonly cert: string; readonly key: string };
  } = {},
): Promise<ProviderStub> => {
  const requests: ProviderRequest[] = [];
  const accepted: ProviderRequest[] = [];
  const answers: ProviderAnswer[] = [];
  const byKey = new Map<string, string>();
  let next = 0;
  const handler: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ProviderRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const answer = answers.shift();
      if (answer?.hang === true) return;
      if (answer?.delayMs !== undefined)
        setTimeout(() => {
          respond(answer, request);
        }, answer.delayMs);
      else respond(answer, request);
    });
    const respond = (answer: ProviderAnswer | undefined, request: ProviderRequest): void => {
      const key = req.headers['idempotency-key'];
      const known = typeof key === 'string' ? byKey.get(key) : undefined;
      if (answer === undefined || (answer.status >= 200 && answer.status < 300)) {
        next += 1;
        const id = known ?? `MSG${String(next).padStart(6, '0')}`;
        if (known === undefined) {
          if (typeof key === 'string') byKey.set(key, id);
          accepted.push(request);
        }
        res.writeHead(answer?.status ?? 201, {
          'content-type': 'application/json',
          ...answer?.headers,
        });
        res.end(JSON.stringify(answer?.body ?? { sid: id, id, status: 'queued' }));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? { message: 'stub failure' }));
    };
  };
  const server =
    options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${String(port)}`,
    requests,
    accepted,
    queue: (...more) => answers.push(...more),
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
