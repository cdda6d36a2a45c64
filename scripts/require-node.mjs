// Refuses a Node.js older than package.json's engines.node with one line, before
// anything else runs: `npm start`, `npm test`, `npm run bench` and deletionctl
// run it first. Kept to syntax and APIs every Node since 12 understands, so an
// old runtime reaches the message instead of a stack trace.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const parts = (version) =>
  version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);

/**
 * The refusal for Node `found` (`process.version`) under the range `needed`
 * (`>=major[.minor[.patch]]`, the only form package.json uses), or undefined
 * when it is new enough.
 */
export const nodeRefusal = (found, needed) => {
  const match = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(needed.trim());
  if (match === null) throw new Error(`engines.node must be ">=x.y.z", not "${needed}"`);
  const want = parts(match[1]);
  const have = parts(found);
  for (let i = 0; i < 3; i += 1) {
    const difference = (have[i] ?? 0) - (want[i] ?? 0);
    if (difference > 0) return undefined;
    if (difference < 0)
      return `account-deletion-service needs Node.js ${needed} (Node 24 LTS; 26 also works), but this is Node.js ${found}: install Node 24 and put it first on PATH.`;
  }
  return undefined;
};

/** Exits with the refusal on stderr when the running Node is older than engines.node. */
export const requireNode = () => {
  const manifest = new URL('../package.json', import.meta.url);
  const needed = JSON.parse(readFileSync(manifest, 'utf8')).engines.node;
  const refusal = nodeRefusal(process.version, needed);
  if (refusal === undefined) return;
  process.stderr.write(`${refusal}\n`);
  process.exit(1);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) requireNode();
