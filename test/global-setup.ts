import type { TestProject } from 'vitest/node';

import { startEmbeddedDatabase } from '../src/dev/embedded/embedded-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

/**
 * Starts one database for the whole run (MONGODB_URI if set, else mongod or FerretDB) and hands its
 * URI to tests via `inject('mongoUri')`; each test file picks its own database name.
 * Default export because vitest's globalSetup requires it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const db = await startEmbeddedDatabase({ externalUri: process.env.MONGODB_URI });
  project.provide('mongoUri', db.uri);
  return async () => {
    await db.stop();
  };
}
