// Rounds of "ours" and "floor" measured alternately in one run (which goes first
// alternates, so drift on a shared machine falls on both), and their figures.
import { againstFloor, median, round3, type Figure } from './report.js';

/** One measurement of one side. */
export interface Sample {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The rounds of both sides at one level of load. */
export interface SideBySide<T extends Sample> {
  readonly ours: T[];
  readonly floor: T[];
}

/** Runs `rounds` rounds of both sides, alternating which goes first. Bounded by `rounds`. */
export const alternate = async <T extends Sample>(
  rounds: number,
  measure: (side: 'ours' | 'floor') => Promise<T>,
): Promise<SideBySide<T>> => {
  const result: SideBySide<T> = { ours: [], floor: [] };
  for (let i = 0; i < rounds; i += 1) {
    for (const side of i % 2 === 0 ? (['ours', 'floor'] as const) : (['floor', 'ours'] as const))
      result[side].push(await measure(side));
  }
  return result;
};

/** Throughput (with its goal, if any), p50 and p99 of one level, medians over rounds. */
export const levelFigures = (
  label: string,
  runs: SideBySide<Sample>,
  goalRatio?: number,
): Figure[] => {
  const of = (side: 'ours' | 'floor', pick: (sample: Sample) => number) =>
    median(runs[side].map(pick));
  return [
    againstFloor(
      {
        name: `${label} throughput`,
        unit: 'calls/s',
        value: of('ours', (s) => s.requestsPerSecond),
        floor: of('floor', (s) => s.requestsPerSecond),
      },
      { higherIsBetter: true, ...(goalRatio !== undefined && { goalRatio }) },
    ),
    againstFloor(
      {
        name: `${label} p50`,
        unit: 'ms',
        value: of('ours', (s) => s.p50Ms),
        floor: of('floor', (s) => s.p50Ms),
      },
      { higherIsBetter: false },
    ),
    againstFloor(
      {
        name: `${label} p99`,
        unit: 'ms',
        value: of('ours', (s) => s.p99Ms),
        floor: of('floor', (s) => s.p99Ms),
      },
      { higherIsBetter: false },
    ),
  ];
};

/** Rounded per-round numbers for `details`. */
export const roundsOf = (runs: SideBySide<Sample>) => ({
  ours: runs.ours.map((s) => [Math.round(s.requestsPerSecond), round3(s.p50Ms), round3(s.p99Ms)]),
  floor: runs.floor.map((s) => [Math.round(s.requestsPerSecond), round3(s.p50Ms), round3(s.p99Ms)]),
});
