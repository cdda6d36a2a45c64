import { composeApp } from './compose.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { serve, startFailed } from './serve.js';

/**
 * The production entry (`node dist/main.js`): the service on the database
 * `MONGODB_URI` names. It never imports development modules (`src/dev`: the
 * embedded database, the dev mailbox, demo data; a dependency-cruiser rule
 * holds it); `npm start` runs `dev/main.ts`, which brings them.
 */
const main = async (): Promise<void> => {
  const config = loadConfig(process.env);
  const uri = config.MONGODB_URI;
  if (uri === undefined)
    throw new ConfigError(
      'invalid configuration:\n  MONGODB_URI: required (an embedded database is the development start’s: npm start)',
    );
  const app = await composeApp(config, uri);
  await serve(app, config, { database: 'external' });
};

main().catch(startFailed);
