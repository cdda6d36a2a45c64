import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of a server whose line a test can cut and restore. */
export interface CuttableProxy {
  /** `host:port` of the proxy. */
  readonly address: string;
  /** `uri` (of the server behind) with the proxy's host and port instead. */
  uriThrough(uri: string): string;
  /** Drops every connection and refuses new ones, as an unreachable server would. */
  cut(): void;
  /** Lets connections through again. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to `target` (`host:port`). */
export const startCuttableProxy = async (target: string): Promise<CuttableProxy> => {
  const [host = '127.0.0.1', port = '0'] = target.split(':');
  const sockets = new Set<Socket>();
  let down = false;
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
    client.pipe(upstream).pipe(client);
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
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
