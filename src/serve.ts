import type { App } from './compose.js';
import { ConfigError, type Config } from './config/load-config.js';
import { shutdownTelemetry } from './telemetry/telemetry-switch.js';

/**
 * Runs a composed replica until SIGINT or SIGTERM: starts it, logs where it
 * listens, then shuts down within `SHUTDOWN_GRACE_SECONDS` (the replica's
 * drain, then `release`, then telemetry) and exits. The only place that
 * listens for signals and exits.
 */
export const serve = async (
  app: App,
  config: Config,
  how: {
    /** What the log line says the database is. */
    readonly database: string;
    /** Let go of what the start brought besides the replica (an embedded database). */
    readonly release?: () => Promise<void>;
    /** Runs once the replica listens, with its ports (development writes its tools' credentials). */
    readonly started?: (ports: { grpcPort: number; httpPort: number }) => Promise<void>;
  },
): Promise<void> => {
  const { grpcPort, httpPort } = await app.start();
  await how.started?.({ grpcPort, httpPort });
  app.logger.info(
    { grpcPort, httpPort, database: how.database, env: config.DELETION_ENV },
    `account deletion service listening: gRPC ${config.GRPC_HOST}:${grpcPort}, HTTP ${config.HTTP_HOST}:${httpPort}`,
  );
  let closing = false;
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.logger.info({ signal, graceMs }, 'shutting down');
    // Whatever still hangs at the end of the grace period (a database, a collector) is left.
    setTimeout(() => {
      app.logger.warn({ graceMs }, 'shutdown grace period over: exiting');
      process.exit(1);
    }, graceMs).unref();
    const started = Date.now();
    // The replica's own drain takes most of the grace; the rest what the start brought and telemetry.
    void app
      .close(graceMs * 0.8)
      .then(() => how.release?.())
      .then(() => shutdownTelemetry())
      .then(
        () => {
          app.logger.info({ tookMs: Date.now() - started }, 'shut down');
          process.exit(0);
        },
        (error: unknown) => {
          app.logger.error(
            { cause: error instanceof Error ? error.name : typeof error },
            'shutdown failed',
          );
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
};

/** Ends a start that failed: the configuration's message as it is, anything else in one line. */
export const startFailed = (error: unknown): never => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('start-up failed:', error instanceof Error ? error.message : error);
  process.exit(1);
};
