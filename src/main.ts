import { join } from 'node:path';
import { composeApp } from './compose.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { startEmbeddedDatabase } from './embedded/embedded-database.js';
import { shutdownTelemetry } from './telemetry/telemetry-switch.js';

/** The process entry: the only place that reads process.env, listens and handles signals. */
const main = async (): Promise<void> => {
  const development = process.env.DELETION_ENV === 'development';
  const config = loadConfig({
    SEED_DEMO: development && !process.env.MONGODB_URI ? 'true' : 'false',
    ...process.env,
  });
  const database = await startEmbeddedDatabase({
    externalUri: config.MONGODB_URI,
    dataDir: join(config.DATA_DIR, 'db'),
  });
  const app = await composeApp(config, database.uri, { residue: database.scrub });
  const { grpcPort, httpPort } = await app.start();
  app.logger.info(
    { grpcPort, httpPort, database: database.kind, env: config.DELETION_ENV },
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
    // The replica's own drain takes most of the grace; the embedded database and telemetry the rest.
    void app
      .close(graceMs * 0.8)
      .then(() => database.stop())
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

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('start-up failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
