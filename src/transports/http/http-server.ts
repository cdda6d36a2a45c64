import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Readiness: resolves when the service can take work (the database answers). */
export type ReadinessCheck = () => Promise<boolean>;

/** The HTTP side of the service: health now, tRPC later. */
export interface HttpServer {
  readonly server: Server;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

const send = (response: ServerResponse, statusCode: number, body: object): void => {
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
};

const route = async (
  request: IncomingMessage,
  response: ServerResponse,
  ready: ReadinessCheck,
): Promise<void> => {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/healthz') return send(response, 200, { status: 'ok' });
  if (path === '/readyz') {
    const ok = await ready().catch(() => false);
    return send(response, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
  }
  send(response, 404, { error: 'not found' });
};

/** `/healthz` (the process is alive) and `/readyz` (the database answers). */
export const createHttpServer = (ready: ReadinessCheck): HttpServer => {
  const server = createServer((request, response) => {
    void route(request, response, ready);
  });
  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
