import { connect, createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';

/**
 * Asks the OS for a TCP port on 127.0.0.1 that is unused right now.
 *
 * The port is released before the caller binds it, so another process may grab it in
 * between; callers retry with a fresh port when their server fails to start.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) {
          reject(new Error('could not determine the port picked by the OS'));
        } else {
          resolve(port);
        }
      });
    });
  });
}

/** Resolves `true` when something accepts a TCP connection on 127.0.0.1:`port`. Never rejects. */
export function canConnect(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const finish = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
