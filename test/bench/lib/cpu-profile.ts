// Preloaded into a replica when BENCH_CPU_PROF=dir (Node 20 refuses --cpu-prof in
// NODE_OPTIONS): profiles the process with the inspector's sampler from start, and
// on SIGTERM writes `<dir>/replica-<pid>.cpuprofile` and exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable', () => {
  session.post('Profiler.start');
});
process.once('SIGTERM', () => {
  session.post('Profiler.stop', (error, result) => {
    if (error === null)
      writeFileSync(
        join(dir, `replica-${String(process.pid)}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    process.exit(0);
  });
});
