// What every benchmark script reports, and the statistics they share. A script
// runs on its own (`node --import tsx test/bench/<name>.ts`) and ends by printing
// one `BENCH_RESULT {json}` line; `npm run bench` (test/bench/run.ts) runs them
// one after another, prints the table and writes the JSON.

/** One figure: a measured value, and where it has one, its floor measured in the same run. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The best a bare implementation does on the same machine, in the same run. */
  readonly floor?: number;
  /** value / floor (or floor / value for lower-is-better units), so higher is better. */
  readonly ratio?: number;
  /** The goal, in words ("≥ 0.8 of floor"), and whether this run met it. */
  readonly goal?: string;
  readonly met?: boolean;
}

/** What one benchmark script measured. */
export interface BenchResult {
  readonly benchmark: string;
  /** How it was measured: rounds, seconds, concurrency, counts. */
  readonly setup: Readonly<Record<string, string | number | boolean>>;
  readonly figures: readonly Figure[];
  /** Raw per-round numbers and anything else worth keeping. */
  readonly details?: unknown;
}

/** BENCH_QUICK=1: tiny sizes, to check that a script runs and reports every figure (CI). */
export const quick = process.env.BENCH_QUICK === '1';

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Prints the result line that `npm run bench` collects. */
export const reportResult = (result: BenchResult): void => {
  console.log(RESULT_PREFIX + JSON.stringify(result));
};

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/** The q-quantile (0..1) by nearest rank. */
export const percentile = (values: readonly number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
};

/** Rounds for display and JSON: 3 significant decimals at most. */
export const round3 = (value: number): number => Number(value.toFixed(3));

/** A figure compared to its floor; `higherIsBetter` false for latencies. */
export const againstFloor = (
  figure: { name: string; value: number; unit: string; floor: number },
  options: { higherIsBetter: boolean; goalRatio?: number },
): Figure => {
  const ratio = round3(
    options.higherIsBetter ? figure.value / figure.floor : figure.floor / figure.value,
  );
  return {
    ...figure,
    value: round3(figure.value),
    floor: round3(figure.floor),
    ratio,
    ...(options.goalRatio !== undefined && {
      goal: `≥ ${String(options.goalRatio)} of floor`,
      met: ratio >= options.goalRatio,
    }),
  };
};

/** Numbers from argv (`--name=value`), with defaults; bounded by the caller. */
export const numberArgs = <T extends Record<string, number>>(defaults: T): T => {
  const values: Record<string, number> = { ...defaults };
  for (const arg of process.argv.slice(2)) {
    const match = /^--([\w-]+)=(\d+(?:\.\d+)?)$/.exec(arg);
    if (match?.[1] !== undefined && match[1] in values) values[match[1]] = Number(match[2]);
  }
  return values as T;
};
