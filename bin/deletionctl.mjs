#!/usr/bin/env node
// `npx deletionctl …` from the repository: runs the TypeScript tool through tsx,
// after refusing an older Node in one line (imports are hoisted, so the rest is
// imported only once the check has passed).
import { requireNode } from '../scripts/require-node.mjs';

requireNode();
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../clients/deletionctl/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  isTty: process.stdout.isTTY === true,
});
