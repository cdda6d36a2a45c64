// `buf breaking` against main. Skipped (with a message) only where there is no
// main to compare with: a repository without that branch yet.
import { execFileSync } from 'node:child_process';

let hasMain = true;
try {
  execFileSync('git', ['rev-parse', '--verify', '--quiet', 'refs/heads/main'], { stdio: 'ignore' });
} catch {
  hasMain = false;
}
if (!hasMain) {
  console.log('buf breaking: no main branch to compare with, skipped');
  process.exit(0);
}
execFileSync('npx', ['--no-install', 'buf', 'breaking', '--against', '.git#branch=main'], {
  stdio: 'inherit',
});
console.log('buf breaking: no breaking changes against main');
