// `npm run bench`: runs the benchmark scripts one after another (each in its own
// process, so none inherits another's heap or sockets), prints every figure with
// its floor and ratio as a table, and writes them all as JSON.
//   npm run bench                      every benchmark (about an hour on 2 cores)
//   npm run bench -- read-path soak    only these
//   BENCH_QUICK=1 npm run bench        tiny sizes: checks that every script runs (CI)
// Scripts take their own `--name=value` options; they are not passed from here.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBin } from '../../src/dev/embedded/postgres-server.js';
import { quick, RESULT_PREFIX, round3, type BenchResult } from './lib/report.js';

const here = dirname(fileURLToPath(import.meta.url));

/** In the order they run: the cheap ones first, the soak last. */
export const BENCHMARKS = [
  'read-path',
  'write-path',
  'trpc-path',
  'tracing-overhead',
  'database-scan',
  'large-subject',
  'round-trips',
  'end-to-end',
  'soak',
] as const;

/** Runs one script; its result line, or the reason it has none. */
const runScript = (name: string): Promise<BenchResult | { benchmark: string; error: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (code, signal) => {
      const line = output.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
      if (line !== undefined && code === 0) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult);
        return;
      }
      resolve({ benchmark: name, error: `exited ${String(code ?? signal)} without a result` });
    });
  });

const cell = (value: string | number | boolean | undefined): string =>
  value === undefined ? '' : typeof value === 'boolean' ? (value ? 'yes' : 'NO') : String(value);

/** The results as a Markdown table (docs/performance.md keeps the latest). */
export const table = (results: readonly (BenchResult | { benchmark: string; error: string })[]) => {
  const rows = [
    '| Benchmark | Figure | Value | Floor | Ratio | Goal | Met |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    const name = result.benchmark.split(':')[0] ?? result.benchmark;
    if ('error' in result) {
      rows.push(`| ${name} | ${result.error} | | | | | NO |`);
      continue;
    }
    for (const figure of result.figures) {
      rows.push(
        `| ${name} | ${figure.name} | ${cell(figure.value)} ${figure.unit} | ${
          figure.floor === undefined ? '' : `${String(figure.floor)} ${figure.unit}`
        } | ${cell(figure.ratio)} | ${cell(figure.goal)} | ${cell(figure.met)} |`,
      );
    }
  }
  return rows.join('\n');
};

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = asked.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
    process.exit(2);
  }
  const chosen = asked.length > 0 ? asked : [...BENCHMARKS];
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    quick,
    database:
      process.env.MONGODB_URI !== undefined
        ? 'MONGODB_URI'
        : `embedded FerretDB 1.24 on ${(await findPostgresBin()) === undefined ? 'SQLite' : 'PostgreSQL'}`,
  };
  const started = new Date();
  const results = [];
  for (const name of chosen) {
    console.error(`\n== ${name}`);
    const result = await runScript(name);
    results.push(result);
    // The soak runs at half the end-to-end maximum of one replica, measured just before.
    if (name === 'end-to-end' && 'figures' in result && process.env.SOAK_RATE === undefined) {
      const perSecond = result.figures.find(
        (figure) => figure.name === 'completed deletions/s, 1 replica',
      );
      if (perSecond !== undefined && perSecond.value > 0)
        process.env.SOAK_RATE = String(round3(perSecond.value / 2));
    }
  }
  const out = join(here, 'results', machine.quick ? 'quick.json' : 'latest.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ startedAt: started.toISOString(), machine, results }, null, 2)}\n`,
  );
  console.log(`\n${table(results)}\n`);
  console.log(
    `machine: ${String(machine.cpus)} × ${machine.cpuModel}, ${String(machine.memoryGiB)} GiB, Node ${machine.node}, ${machine.database}`,
  );
  console.log(`written: ${out}`);
  if (results.some((result) => 'error' in result)) process.exit(1);
}
