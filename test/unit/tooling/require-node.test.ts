import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeRefusal } from '../../../scripts/require-node.mjs';
import manifest from '../../../package.json' with { type: 'json' };

const script = new URL('../../../scripts/require-node.mjs', import.meta.url);

/** Runs require-node.mjs from a scratch project whose engines.node is `needed`. */
const runWith = (needed: string) => {
  const root = mkdtempSync(join(tmpdir(), 'require-node-'));
  try {
    mkdirSync(join(root, 'scripts'));
    copyFileSync(script, join(root, 'scripts', 'require-node.mjs'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ engines: { node: needed } }));
    return spawnSync(process.execPath, [join(root, 'scripts', 'require-node.mjs')], {
      encoding: 'utf8',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

describe('nodeRefusal', () => {
  it('refuses Node 20 under >=24 in one line naming both versions', () => {
    const refusal = nodeRefusal('v20.20.2', '>=24');
    expect(refusal).toContain('v20.20.2');
    expect(refusal).toContain('>=24');
    expect(refusal).not.toContain('\n');
  });

  it('accepts the first release of the line asked for and everything after it', () => {
    expect(nodeRefusal('v24.0.0', '>=24')).toBeUndefined();
    expect(nodeRefusal('v24.22.3', '>=24')).toBeUndefined();
    expect(nodeRefusal('v26.12.1', '>=24')).toBeUndefined();
  });

  it('compares minor and patch numerically, not as text', () => {
    expect(nodeRefusal('v24.9.0', '>=24.11.1')).toBeDefined();
    expect(nodeRefusal('v24.11.0', '>=24.11.1')).toBeDefined();
    expect(nodeRefusal('v24.11.1', '>=24.11.1')).toBeUndefined();
    expect(nodeRefusal('v24.100.0', '>=24.11.1')).toBeUndefined();
    expect(nodeRefusal('v23.99.99', '>=24')).toBeDefined();
  });

  it('rejects a range it cannot read rather than letting every version through', () => {
    expect(() => nodeRefusal('v24.0.0', '^24 || ^26')).toThrow(/engines.node/);
  });

  it('is what package.json asks for, and the running Node passes it', () => {
    expect(manifest.engines.node).toBe('>=24.11.1');
    expect(nodeRefusal(process.version, manifest.engines.node)).toBeUndefined();
  });
});

describe('scripts/require-node.mjs', () => {
  it('exits 1 with the one-line refusal on stderr, no stack trace', () => {
    const run = runWith('>=999');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `account-deletion-service needs Node.js >=999 (Node 24 LTS; 26 also works), but this is Node.js ${process.version}: install Node 24 and put it first on PATH.`,
    ]);
  });

  it('says nothing and exits 0 on a Node that is new enough', () => {
    const run = runWith(`>=${process.versions.node}`);
    expect(run).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });
});
