// The CPU time a process has used (user + system, all its threads), from
// /proc/<pid>/stat: how much of the machine one side of a benchmark costs per
// call, a figure far steadier on a shared machine than its throughput.
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command (which may hold spaces): field 3 on. */
const statOf = async (pid: number | string): Promise<string[]> => {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};

const ms = (ticks: number, pid: number | string): number => {
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${String(pid)}/stat`);
  return (ticks * 1000) / TICKS_PER_SECOND;
};

/** CPU milliseconds `pid` has used so far (utime, field 14, and stime, 15); Linux only. */
export const cpuMsOf = async (pid: number): Promise<number> => {
  const fields = await statOf(pid);
  return ms(Number(fields[11]) + Number(fields[12]), pid);
};

/**
 * CPU milliseconds of `pid` and its children (PostgreSQL's backends are children
 * of its postmaster): the live ones read one by one, the ended ones from the
 * parent's cutime and cstime (fields 16 and 17).
 */
export const treeCpuMsOf = async (pid: number): Promise<number> => {
  const own = await statOf(pid);
  let total = ms(Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]), pid);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || entry === String(pid)) continue;
    const fields = await statOf(entry).catch(() => undefined); // it may just have ended
    if (fields?.[1] === String(pid)) total += ms(Number(fields[11]) + Number(fields[12]), entry);
  }
  return total;
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
