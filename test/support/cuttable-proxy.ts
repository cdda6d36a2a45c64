import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of a server whose line a test can cut and restore. */
export interface CuttableProxy {
  /** `host:port` of the proxy. */
  readonly address: string;
  /** `uri` (of the server behind) with the proxy's host and port instead. */
  uriThrough(uri: string): string;
  /** Drops every connection and refuses new ones, as an unreachable server would. */
  cut(): void;
  /** Lets connections through again, without delay. */
  restore(): void;
  /** Holds what clients send for `ms` before passing it on, as a slow or hung server would seem. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to `target` (`host:port`). */
export const startCuttableProxy = async (target: string): Promise<CuttableProxy> => {
  const [host = '127.0.0.1', port = '0'] = target.split(':');
  const sockets = new Set<Socket>();
  let down = false;
  let delayMs = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), host);
    track(upstream);
    // In order, each chunk held for the delay in force when it arrived.
    let queue = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const due = Date.now() + delayMs;
      queue = queue
        .then(() => new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => {
          if (!upstream.destroyed) upstream.write(chunk);
        });
    });
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('proxy not bound to a port');
  return {
    address: `127.0.0.1:${String(bound.port)}`,
    uriThrough: (uri) => {
      const url = new URL(uri);
      url.host = `127.0.0.1:${String(bound.port)}`;
      return url.toString();
    },
    cut: () => {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      down = false;
      delayMs = 0;
    },
    delay: (ms) => {
      delayMs = ms;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
