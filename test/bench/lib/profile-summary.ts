// The top functions of a V8 CPU profile (`node --cpu-prof`; BENCH_CPU_PROF=dir
// has a bench write one for its replica): self time and total time, each as a
// share of the sampled time.
//   node --import tsx test/bench/lib/profile-summary.ts <file.cpuprofile> [top=15]
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 15);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const nameOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/(node_modules|src|test)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${String(lineNumber + 1)}`;
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);

const self = new Map<string, number>();
const total = new Map<string, number>();
let sampled = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  sampled += delta;
  const node = byId.get(id);
  if (node === undefined) return;
  self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + delta);
  const seen = new Set<string>();
  // Up the stack to the root (bounded by the tree's depth), each function once.
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at);
    if (frame) seen.add(nameOf(frame));
  }
  for (const name of seen) total.set(name, (total.get(name) ?? 0) + delta);
});

const print = (title: string, table: Map<string, number>) => {
  console.log(`${title} (of ${(sampled / 1000).toFixed(0)} ms sampled)`);
  for (const [name, time] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${((100 * time) / sampled).toFixed(1).padStart(5)}%  ${name}`);
};
print('self time', self);
print('total time', total);
