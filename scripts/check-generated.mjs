// Fails when src/gen, or the copies in the client packages (clients/*/gen), are not what
// `npm run generate` produces from proto/.
import { execFileSync } from 'node:child_process';

execFileSync('node', ['scripts/generate.mjs'], { stdio: 'inherit' });
const diff = execFileSync(
  'git',
  ['status', '--porcelain', '--untracked-files=all', '--', 'src/gen', ':(glob)clients/*/gen/**'],
  { encoding: 'utf8' },
);
if (diff.trim() !== '') {
  console.error(
    `generated code differs from what proto/ generates; run \`npm run generate\` and commit:\n${diff}`,
  );
  process.exit(1);
}
console.log('generated code is up to date');
