#!/usr/bin/env node
// `npx deletionctl …` from the repository: runs the TypeScript tool through tsx,
// after refusing an older Node in one line (imports are hoisted, so the rest is
// imported only once the check has passed). The published package's bin is the
// built clients/deletionctl/dist/cli.js instead.
import { register as registerHooks } from 'node:module';
import { requireNode } from '../scripts/require-node.mjs';

requireNode();
// The client packages it imports by name (@account-deletion/…) resolve to their TypeScript
// source under the `account-deletion-source` export condition, as in tsc and vitest.
registerHooks(
  'data:text/javascript,' +
    encodeURIComponent(
      'export const resolve = (specifier, context, next) => next(specifier, ' +
        "{ ...context, conditions: ['account-deletion-source', ...context.conditions] });",
    ),
);
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../clients/deletionctl/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  isTty: process.stdout.isTTY === true,
});
