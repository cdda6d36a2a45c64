import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { BenchResult } from '../bench/lib/report.js';
import { BENCHMARKS } from '../bench/run.js';

/**
 * `npm run bench` with tiny sizes (BENCH_QUICK=1): every benchmark runs from a
 * clean clone and reports every figure as a number, with its floor and ratio
 * where it has one. The sizes prove nothing about speed; `npm run bench` does.
 */
describe('npm run bench', () => {
  it('runs every benchmark and reports each figure', async () => {
    const exit = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/run.ts'], {
        env: { ...process.env, BENCH_QUICK: '1', MONGODB_URI: inject('mongoUri') },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('exit', resolve);
    });
    const written = JSON.parse(await readFile('test/bench/results/quick.json', 'utf8')) as {
      results: (BenchResult | { benchmark: string; error: string })[];
    };
    expect(written.results.filter((result) => 'error' in result)).toEqual([]);
    expect(exit).toBe(0);
    expect(written.results).toHaveLength(BENCHMARKS.length);
    for (const result of written.results as BenchResult[]) {
      expect(result.figures.length, result.benchmark).toBeGreaterThan(0);
      for (const figure of result.figures) {
        expect(Number.isFinite(figure.value), `${result.benchmark}: ${figure.name}`).toBe(true);
        if (figure.floor !== undefined) expect(Number.isFinite(figure.ratio)).toBe(true);
      }
    }
  }, 900_000);

  it('profiles the service replica with --cpu-prof when BENCH_CPU_PROF names a folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
    try {
      const exit = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/read-path.ts'], {
          env: {
            ...process.env,
            BENCH_QUICK: '1',
            BENCH_CPU_PROF: dir,
            MONGODB_URI: inject('mongoUri'),
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('exit', resolve);
      });
      expect(exit).toBe(0);
      const files = await readdir(dir);
      expect(files).toEqual([expect.stringMatching(/^replica-\d+\.cpuprofile$/)]);
      const profile = JSON.parse(await readFile(join(dir, files[0] ?? ''), 'utf8')) as {
        nodes: unknown[];
        samples: unknown[];
      };
      expect(profile.nodes.length).toBeGreaterThan(0);
      expect(profile.samples.length).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
