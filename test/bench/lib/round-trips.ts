// Database round trips of one call of the real use case: the app composed in
// this process on a connection with command monitoring, called over its own
// gRPC server, counting the driver's `commandStarted` events during the call,
// by command and collection (a call may split its count into phases). A call
// may also run the worker's passes (the purge), so a whole lifecycle can be
// counted.
import type { mongo } from 'mongoose';
import {
  createDeletionClient,
  type DeletionClient,
} from '../../../clients/grpc/deletion-client.js';
import { composeApp, type App } from '../../../src/compose.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { commandName } from '../../support/command-name.js';
import { developmentKit } from '../../../src/dev/development-kit.js';

/** The commands one call sent, by `command collection`, and their total. */
export interface RoundTrips {
  readonly total: number;
  readonly byCommand: Readonly<Record<string, number>>;
}

/** What a counted call works with: a client of the app's gRPC server, and the app (its worker). */
export interface Counted {
  readonly client: DeletionClient;
  readonly app: App;
  /** Counts what follows under `name` (the call's own name until it says otherwise). */
  readonly phase: (name: string) => void;
}

/** Composes the app (worker off) on `databaseUri`/`dbName` with `env`; `calls` run one after another. */
export const countRoundTrips = async (
  setup: {
    databaseUri: string;
    dbName: string;
    env: Readonly<Record<string, string>>;
    token: string;
  },
  calls: Readonly<Record<string, (counted: Counted) => Promise<unknown>>>,
): Promise<Record<string, RoundTrips>> => {
  const config = loadConfig({
    ...setup.env,
    MONGODB_DB: setup.dbName,
    DELETION_ENV: 'test',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'false',
    RATE_LIMIT_SWEEP_MS: String(3_600_000), // no sweep among the counted commands
  });
  const separator = setup.databaseUri.includes('?') ? '&' : '?';
  const app = await composeApp(config, `${setup.databaseUri}${separator}monitorCommands=true`, {
    development: developmentKit,
  });
  const ports = await app.start();
  const client = createDeletionClient({
    address: `127.0.0.1:${String(ports.grpcPort)}`,
    auth: { token: setup.token },
    retry: { attempts: 1 },
  });
  const seen = new Map<string, string[]>();
  let current: string[] = [];
  const phase = (name: string) => {
    current = seen.get(name) ?? [];
    seen.set(name, current);
  };
  const record = (event: mongo.CommandStartedEvent) => current.push(commandName(event));
  app.connection.getClient().on('commandStarted', record);
  try {
    for (const [name, call] of Object.entries(calls)) {
      phase(name);
      await call({ client, app, phase });
    }
  } finally {
    app.connection.getClient().off('commandStarted', record);
    client.close();
    await app.close();
  }
  const counted: Record<string, RoundTrips> = {};
  for (const [name, commands] of seen) {
    const byCommand: Record<string, number> = {};
    for (const command of commands) byCommand[command] = (byCommand[command] ?? 0) + 1;
    counted[name] = { total: commands.length, byCommand };
  }
  return counted;
};
