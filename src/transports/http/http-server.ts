import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { TRPC_BASE_PATH } from '../trpc/trpc-handler.js';
import { CONSOLE_PATH } from './console-routes.js';

/** Readiness: resolves when the service can take work (the database answers). */
export type ReadinessCheck = () => Promise<boolean>;

/** Development only: the messages of the dev mailbox, newest first (absent in production). */
export type DevMailboxReader = (filter: {
  readonly to?: string | undefined;
  readonly deletionRequest?: string | undefined;
}) => Promise<readonly object[]>;

/** The HTTP side of the service: tRPC, health, the report key, the dev mailbox. */
export interface HttpServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<number>;
  /**
   * Takes no new connection, lets calls in flight finish (closing each
   * connection as it falls idle) and cuts what is still open after `graceMs`.
   */
  close(graceMs?: number): Promise<void>;
}

const send = (response: ServerResponse, statusCode: number, body: object): void => {
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
};

interface Routes {
  readonly ready: ReadinessCheck;
  /** The public key (SPKI PEM) that verifies the erasure reports signed now. */
  readonly reportKey: string;
  /** Every key that verifies this service's reports, with its id and validity (JSON). */
  readonly reportKeys: object;
  readonly mailbox: DevMailboxReader | undefined;
  /** Serves `/trpc/*`. */
  readonly trpc?: RequestListener;
  /** Serves `/console` and everything under it (the operations console). */
  readonly console?: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
  /** A completed request's signed report for a completion notice's link (null: no such link). */
  readonly reportByLink?: (link: {
    readonly deletionRequest: string;
    readonly token: string;
  }) => Promise<object | null>;
}

const route = async (
  request: IncomingMessage,
  response: ServerResponse,
  { ready, mailbox, reportKey, reportKeys, trpc, reportByLink, console }: Routes,
): Promise<void> => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (trpc !== undefined && path.startsWith(TRPC_BASE_PATH)) return trpc(request, response);
  if (console !== undefined && (path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`)))
    return console(request, response);
  if (path === '/healthz') return send(response, 200, { status: 'ok' });
  if (path === '/erasure-report-key') {
    response.writeHead(200, { 'content-type': 'application/x-pem-file' });
    response.end(reportKey);
    return;
  }
  if (path === '/erasure-report-keys') return send(response, 200, reportKeys);
  const linked = /^\/erasure-reports\/([A-Za-z0-9-]{1,64})$/.exec(path);
  if (linked !== null && reportByLink !== undefined) {
    const deletionRequest = linked[1] ?? '';
    const report = await reportByLink({
      deletionRequest,
      token: url.searchParams.get('token') ?? '',
    });
    // One answer for a wrong, expired or unknown link: it reveals nothing.
    if (report === null) return send(response, 404, { error: 'no report at this link' });
    return send(response, 200, { name: `deletionRequests/${deletionRequest}`, ...report });
  }
  if (path === '/readyz') {
    const ok = await ready().catch(() => false);
    return send(response, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
  }
  if (path === '/dev/mailbox' && mailbox !== undefined) {
    return send(response, 200, {
      messages: await mailbox({
        to: url.searchParams.get('to') ?? undefined,
        deletionRequest: url.searchParams.get('request') ?? undefined,
      }),
    });
  }
  send(response, 404, { error: 'not found' });
};

/**
 * `/trpc/*` (the tRPC router), `/console/*` (the operations console), `/healthz` (the process
 * is alive), `/readyz` (the database answers),
 * `/erasure-report-key` (the public key that signs erasure reports now),
 * `/erasure-report-keys` (every key that verifies them: the key set),
 * `/erasure-reports/<id>?token=` (a report for its completion notice's link) and, in
 * development only, `/dev/mailbox?to=<address>&request=deletionRequests/<id>` (both optional).
 */
export const createHttpServer = (routes: Routes): HttpServer => {
  let closing = false;
  const server = createServer((request, response) => {
    // A call that reaches a closing replica on a kept-alive connection goes elsewhere.
    if (closing) {
      response.setHeader('connection', 'close');
      return send(response, 503, { error: 'shutting down' });
    }
    route(request, response, routes).catch(() => send(response, 500, { error: 'internal error' }));
  });
  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: (graceMs = 5000) =>
      new Promise((resolve) => {
        closing = true;
        const idle = setInterval(() => server.closeIdleConnections(), 20);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
};
