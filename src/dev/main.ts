import { join } from 'node:path';
import { composeApp } from '../compose.js';
import { loadConfig } from '../config/load-config.js';
import { serve, startFailed } from '../serve.js';
import { developmentSigningKey, writeDevelopmentCredentials } from './dev-files.js';
import { developmentKit } from './development-kit.js';
import { startEmbeddedDatabase } from './embedded/embedded-database.js';

/**
 * The development entry (`npm start`): without `MONGODB_URI`, an embedded
 * database under `DATA_DIR` (FerretDB over PostgreSQL or SQLite, or a local
 * mongod) with demo data in development; the dev mailbox when configured.
 * In development it also keeps the report signing key under DATA_DIR and
 * writes the credentials deletionctl finds by itself (dev-files.ts).
 */
const main = async (): Promise<void> => {
  const development = process.env.DELETION_ENV === 'development';
  const env = {
    SEED_DEMO: development && !process.env.MONGODB_URI ? 'true' : 'false',
    ...process.env,
  };
  const first = loadConfig(env);
  // In development the report key lives under DATA_DIR: reports verify after a restart.
  const config =
    development && first.REPORT_SIGNING_KEY === undefined
      ? loadConfig({ ...env, REPORT_SIGNING_KEY: await developmentSigningKey(first.DATA_DIR) })
      : first;
  const database = await startEmbeddedDatabase({
    externalUri: config.MONGODB_URI,
    dataDir: join(config.DATA_DIR, 'db'),
  });
  const app = await composeApp(config, database.uri, {
    residue: database.scrub,
    development: developmentKit,
  });
  await serve(app, config, {
    database: database.kind,
    release: () => database.stop(),
    started: async (ports) => {
      if (!development) return;
      const written = await writeDevelopmentCredentials(config, ports);
      if (written !== undefined)
        app.logger.info({ path: written }, 'development credentials written for deletionctl');
      if (config.CONSOLE_ENABLED)
        app.logger.info(
          {
            url: `http://${config.HTTP_HOST}:${String(ports.httpPort)}/console`,
            ...(written !== undefined && { signInWith: `the token in ${written}` }),
          },
          'operations console',
        );
    },
  });
};

main().catch(startFailed);
