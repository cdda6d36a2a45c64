import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import {
  findExecutable,
  hostEnvironment,
  spawnTracked,
  stopTracked,
  withoutVariables,
} from './child-process.js';
import { waitUntilReady } from './wait-until-ready.js';

const run = promisify(execFile);
const DATABASE = 'ferretdb';
/** Only the socket's name carries it: the socket is in a folder of its own. */
const PORT = 5432;

/** A PostgreSQL server this process started, for FerretDB's postgresql handler. */
export interface PostgresServer {
  /** postgres:// URL of the database FerretDB keeps its collections in. */
  readonly url: string;
  /** PostgreSQL's major version, e.g. "15". */
  readonly version: string;
  /** The postmaster's process id (its backends are its children). */
  readonly pid: number | undefined;
  /**
   * Leaves no deleted row of the schema (a MongoDB database, as FerretDB
   * stores it) in the cluster's files: see {@link tablesOfSchemaSql}.
   */
  readonly scrub: (schema: string) => Promise<void>;
  stop(): Promise<void>;
}

/**
 * What takes deleted rows out of PostgreSQL's files: VACUUM FULL rewrites
 * each table of the schema into a new file without them (the old file is
 * truncated at once and unlinked at the checkpoint); the WAL that still
 * holds their inserts is closed (pg_switch_wal) and dropped by the
 * checkpoint that follows (wal_recycle=off: removed, not kept for reuse).
 */
export const tablesOfSchemaSql = (schema: string): string =>
  `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ${quoteLiteral(schema)}`;

/** A SQL string literal. */
const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Who runs PostgreSQL: it refuses root, so as root it runs as the `postgres` user. */
interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * The folder with PostgreSQL's server programs: the newest of Debian's layout
 * (`/usr/lib/postgresql/<major>/bin`), else the folder of `initdb` on PATH; undefined
 * when PostgreSQL is not installed.
 */
export async function findPostgresBin(): Promise<string | undefined> {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? await readdir(root) : [];
  const debian = majors
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, 'bin'))
    .find((bin) => existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb')));
  if (debian !== undefined) return debian;
  const initdb = await findExecutable('initdb');
  return initdb === undefined ? undefined : dirname(initdb);
}

async function ownerOf(): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: '-u' | '-g') =>
    Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error(
      'PostgreSQL refuses to run as root, and there is no `postgres` user to run it as',
    );
  }
}

/**
 * What makes FerretDB 1.24's filters use indexes on PostgreSQL. It pushes a filter down
 * as `_jsonb->'field' @> value` in a prepared statement, and indexes a field with a
 * btree on `(_jsonb->'field')`, which cannot serve `@>`. So every btree index FerretDB
 * creates gets a GIN `jsonb_path_ops` twin per top-level field (fastupdate off: a
 * pending list would be scanned on every lookup), named after the btree so that the
 * twins go when it goes; and statements are planned with their values (a generic plan
 * cannot match an expression index). Idempotent.
 */
export const INDEX_SETTINGS_SQL = `
ALTER DATABASE ${DATABASE} SET plan_cache_mode = force_custom_plan;
CREATE OR REPLACE FUNCTION gin_twins_of_btree_indexes() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  command record;
  definition text;
  field record;
BEGIN
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands()
    WHERE command_tag = 'CREATE INDEX' LOOP
    definition := pg_get_indexdef(command.objid);
    CONTINUE WHEN definition NOT LIKE '% USING btree %'
      OR definition LIKE '%\\_ferretdb\\_%';
    FOR field IN
      SELECT m[1] AS name, n FROM regexp_matches(
        definition, '\\(_jsonb -> ''([^'']+)''::text\\)(?! ->)', 'g') WITH ORDINALITY AS f(m, n)
    LOOP
      EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops) WITH (fastupdate = off)',
        'gin_' || md5(command.object_identity) || '_' || field.n,
        (SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = command.objid),
        field.name);
    END LOOP;
  END LOOP;
END
$fn$;
CREATE OR REPLACE FUNCTION drop_gin_twins() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  dropped record;
  twin record;
BEGIN
  FOR dropped IN SELECT * FROM pg_event_trigger_dropped_objects() WHERE object_type = 'index' LOOP
    FOR twin IN SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = dropped.schema_name AND c.relkind = 'i'
        AND c.relname LIKE 'gin\\_' || md5(dropped.object_identity) || '\\_%'
    LOOP
      EXECUTE format('DROP INDEX IF EXISTS %I.%I', dropped.schema_name, twin.relname);
    END LOOP;
  END LOOP;
END
$fn$;
DROP EVENT TRIGGER IF EXISTS gin_twins_of_btree_indexes;
CREATE EVENT TRIGGER gin_twins_of_btree_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION gin_twins_of_btree_indexes();
DROP EVENT TRIGGER IF EXISTS drop_gin_twins;
CREATE EVENT TRIGGER drop_gin_twins ON sql_drop
  WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION drop_gin_twins();
`;

/**
 * Starts PostgreSQL with its cluster in `<dataDir>/postgres` (made with initdb the first
 * time, kept after), its database `ferretdb` and the index settings. It listens on no
 * TCP port: only on a Unix socket inside the cluster folder, which only its owner (and
 * root, which FerretDB runs as where PostgreSQL runs as `postgres`) can reach, so no
 * other local user can connect, let alone as its superuser. Commits are not flushed one
 * by one (synchronous_commit=off): a crash may lose the last ones, never consistency,
 * like the SQLite default's WAL with synchronous=NORMAL.
 */
export async function startPostgres(
  bin: string,
  dataDir: string,
  log: (line: string) => void,
): Promise<PostgresServer> {
  const owner = await ownerOf();
  const cluster = join(dataDir, 'postgres');
  // A socket's path is at most 107 bytes on Linux.
  if (Buffer.byteLength(join(cluster, `.s.PGSQL.${String(PORT)}.lock`)) > 100)
    throw new Error(`the data folder's path is too long for PostgreSQL's socket: ${cluster}`);
  if (!existsSync(join(cluster, 'PG_VERSION'))) await initCluster({ bin, cluster, owner }, log);
  const version = (await run(join(bin, 'postgres'), ['--version'])).stdout.replace(
    /\D*(\d+).*/s,
    '$1',
  );
  const tracked = spawnTracked(
    join(bin, 'postgres'),
    [
      ...['-D', cluster, '-p', String(PORT)],
      ...['-c', 'listen_addresses=', '-c', `unix_socket_directories=${cluster}`],
      ...['-c', 'unix_socket_permissions=0700', '-c', 'synchronous_commit=off'],
      // A WAL segment no longer needed is removed, not renamed for reuse with its old content.
      ...['-c', 'wal_recycle=off', '-c', 'wal_keep_size=0'],
    ],
    { env: postgresEnvironment(), user: owner },
  );
  const stop = async () => {
    await stopTracked(tracked, 10_000);
  };
  try {
    await waitUntilReady(tracked, `PostgreSQL ${version}`, () =>
      psql({ bin, socketDir: cluster }, 'postgres', 'SELECT 1').then(
        () => true,
        () => false,
      ),
    );
    await prepareDatabase({ bin, socketDir: cluster });
  } catch (error) {
    await stop();
    throw error;
  }
  log(`PostgreSQL ${version} ready on its socket in ${cluster}`);
  return {
    url: `postgres://postgres@/${DATABASE}?host=${encodeURIComponent(cluster)}&port=${String(PORT)}`,
    version,
    pid: tracked.child.pid,
    scrub: async (schema) => {
      const server = { bin, socketDir: cluster, timeoutMs: SCRUB_STATEMENT_MS };
      const tables = (await psql(server, DATABASE, tablesOfSchemaSql(schema))).stdout
        .split('\n')
        .filter((table) => table !== '');
      // VACUUM runs outside a transaction: one command per table.
      for (const table of tables) {
        const { stderr } = await psql(server, DATABASE, `VACUUM (FULL, VERBOSE) ${table}`);
        // A deleted row an open snapshot may still see is copied into the new file: not scrubbed.
        const kept = Number(/(\d+) dead row versions cannot be removed yet/.exec(stderr)?.[1] ?? 0);
        if (kept > 0)
          throw new Error(
            `${String(kept)} deleted rows of ${table} are still visible to a snapshot`,
          );
      }
      // Twice: the first checkpoint's own records land in the segment it leaves behind.
      for (let round = 0; round < 2; round += 1)
        await psql(server, DATABASE, 'SELECT pg_switch_wal(); CHECKPOINT;');
    },
    stop,
  };
}

async function initCluster(
  { bin, cluster, owner }: { bin: string; cluster: string; owner: Owner | undefined },
  log: (line: string) => void,
): Promise<void> {
  log(`creating a PostgreSQL cluster in ${cluster}`);
  await mkdir(cluster, { recursive: true, mode: 0o700 });
  if (owner !== undefined) {
    await chown(cluster, owner.uid, owner.gid);
    // The postgres user must pass through the data folder (a throwaway one is 0700).
    const parent = dirname(cluster);
    await chmod(parent, (await stat(parent)).mode | 0o111);
  }
  await run(
    join(bin, 'initdb'),
    ['-D', cluster, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { env: postgresEnvironment(), ...owner },
  );
}

/**
 * libpq reads PG* variables (PGHOST, PGSSLMODE, PGOPTIONS…) as defaults; a developer's
 * shell must not redirect or reconfigure our instance.
 */
const postgresEnvironment = (): NodeJS.ProcessEnv => withoutVariables(hostEnvironment(), ['PG']);

/** A running server's programs and the folder of its socket; with a bound for each statement. */
interface Reachable {
  readonly bin: string;
  readonly socketDir: string;
  readonly timeoutMs?: number;
}

const psql = ({ bin, socketDir, timeoutMs }: Reachable, database: string, sql: string) =>
  run(
    join(bin, 'psql'),
    [
      ...['-h', socketDir, '-p', String(PORT), '-U', 'postgres', '-d', database],
      ...['-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql],
    ],
    {
      env: {
        ...postgresEnvironment(),
        PGCONNECT_TIMEOUT: '5',
        // A lock that does not come, or a statement that runs on, fails instead of waiting.
        ...(timeoutMs !== undefined && {
          PGOPTIONS: `-c lock_timeout=5000 -c statement_timeout=${String(timeoutMs)}`,
        }),
      },
      ...(timeoutMs !== undefined && { timeout: timeoutMs + 5000 }),
    },
  );

/** How long one statement of a scrub may take (a VACUUM FULL of a large vault takes longer). */
const SCRUB_STATEMENT_MS = 120_000;

async function prepareDatabase(server: Reachable): Promise<void> {
  const exists = await psql(
    server,
    'postgres',
    `SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`,
  );
  if (exists.stdout.trim() !== '1') await psql(server, 'postgres', `CREATE DATABASE ${DATABASE}`);
  await psql(server, DATABASE, INDEX_SETTINGS_SQL);
}
