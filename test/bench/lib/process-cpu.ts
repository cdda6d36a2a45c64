// The CPU time a process has used (user + system, all its threads), from
// /proc/<pid>/stat: how much of the machine one side of a benchmark costs per
// call, a figure far steadier on a shared machine than its throughput.
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds `pid` has used so far; Linux only. */
export const cpuMsOf = async (pid: number): Promise<number> => {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  // Fields after the command (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${String(pid)}/stat`);
  return (ticks * 1000) / TICKS_PER_SECOND;
};

/** Runs `work` and adds the CPU milliseconds `pid` used meanwhile to its result. */
export const withCpuOf = async <T extends object>(
  pid: number,
  work: () => Promise<T>,
): Promise<T & { readonly cpuMs: number }> => {
  const before = await cpuMsOf(pid);
  const result = await work();
  return { ...result, cpuMs: (await cpuMsOf(pid)) - before };
};
