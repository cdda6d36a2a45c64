// `buf breaking` against the committed baseline of the contract, proto-baseline/deletion.binpb:
// the protos as last released. Comparing with a branch only saw uncommitted edits on that branch
// (and nothing in a clone without it); the baseline is in every clone, so a breaking change fails
// here on the commit that makes it and on every later one, until the baseline is moved on
// deliberately (`npm run proto:baseline`, reviewed like any change of the API).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const baseline = 'proto-baseline/deletion.binpb';
if (!existsSync(baseline)) {
  console.error(`buf breaking: ${baseline} is missing; build it with npm run proto:baseline`);
  process.exit(1);
}
try {
  execFileSync('npx', ['--no-install', 'buf', 'breaking', '--against', baseline], {
    stdio: 'inherit',
  });
} catch {
  console.error(`buf breaking: the protos break the contract of ${baseline}`);
  process.exit(1);
}
console.log(`buf breaking: no breaking changes against ${baseline}`);
