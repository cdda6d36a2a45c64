import { join } from 'node:path';
import { composeApp } from '../compose.js';
import { loadConfig } from '../config/load-config.js';
import { serve, startFailed } from '../serve.js';
import { developmentKit } from './development-kit.js';
import { startEmbeddedDatabase } from './embedded/embedded-database.js';

/**
 * The development entry (`npm start`): without `MONGODB_URI`, an embedded
 * database under `DATA_DIR` (FerretDB over PostgreSQL or SQLite, or a local
 * mongod) with demo data in development; the dev mailbox when configured.
 */
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
  const app = await composeApp(config, database.uri, {
    residue: database.scrub,
    development: developmentKit,
  });
  await serve(app, config, { database: database.kind, release: () => database.stop() });
};

main().catch(startFailed);
