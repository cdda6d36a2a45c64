#!/usr/bin/env node
// The `deletionctl` command of the published package (its `bin`, built to dist/cli.js).
// In the repository, `npx deletionctl` runs bin/deletionctl.mjs, which runs main.ts through tsx.
import { main } from './main.js';

// undefined when stdout is not a terminal, whatever the types say.
const { isTTY } = process.stdout as { readonly isTTY?: boolean };

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  isTty: isTTY === true,
});
