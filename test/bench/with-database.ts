// Runs a command against the embedded FerretDB on a chosen storage (MONGODB_URI set for
// it), then stops and removes everything (also on Ctrl-C). Every benchmark reads
// MONGODB_URI, so this compares the same code on both: without it a bench runs on
// PostgreSQL when that is installed, else SQLite (src/embedded).
//   node --import tsx test/bench/with-database.ts --sqlite -- node --import tsx test/bench/database-scan.ts
//   node --import tsx test/bench/with-database.ts --postgresql -- npm run bench -- end-to-end
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { startEmbeddedDatabase } from '../../src/dev/embedded/embedded-database.js';

const separator = process.argv.indexOf('--');
const flags = process.argv.slice(2, separator === -1 ? undefined : separator);
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
const backend = flags.includes('--sqlite')
  ? 'sqlite'
  : flags.includes('--postgresql')
    ? 'postgresql'
    : undefined;
if (backend === undefined || command.length === 0)
  throw new Error('usage: with-database.ts --sqlite|--postgresql -- <command> [args]');

/** Runs the command with MONGODB_URI; its exit code (128 + the signal's number if killed). */
const runCommand = (uri: string): Promise<number> =>
  new Promise((resolve) => {
    const [file = '', ...args] = command;
    const child = spawn(file, args, {
      stdio: 'inherit',
      env: { ...process.env, MONGODB_URI: uri },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    child.once('error', (error) => {
      process.stderr.write(`[with-database] ${file}: ${error.message}\n`);
    });
    child.once('close', (code, signal) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });

const database = await startEmbeddedDatabase({ ferretDbBackend: backend });
let exitCode = 1;
try {
  process.stderr.write(`[with-database] ${database.label} at ${database.uri}\n`);
  exitCode = await runCommand(database.uri);
} finally {
  await database.stop();
}
process.exit(exitCode);
