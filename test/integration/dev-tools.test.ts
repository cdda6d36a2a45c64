import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionRequest_State } from '../../src/gen/deletion/v1/deletion_request.js';
import { castFor, newSubjectId } from '../support/principals.js';
import { mintToken } from '../support/tokens.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const exec = promisify(execFile);

/** Runs a development script as `npm run` would; its exit code and both outputs, failure or not. */
const script = async (name: string, args: readonly string[]) => {
  try {
    const { stdout, stderr } = await exec(process.execPath, [`scripts/${name}.mjs`, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('npm run token', () => {
  it('prints its usage with --help, and refuses bad options in one line, exit 2', async () => {
    const help = await script('dev-token', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run -s token/);
    for (const args of [['--ttl=-5'], ['--ttl', '1.5'], ['--bogus'], ['--sub', ' ']]) {
      const refused = await script('dev-token', args);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^token: .+\n\nUsage:/);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('mints a token of the lifetime asked for', async () => {
    const minted = await script('dev-token', ['--sub', 'svc', '--service', '--ttl', '120']);
    const claims = decodeJwt(minted.stdout.trim());
    expect(claims).toMatchObject({ sub: 'svc', client_id: 'svc', scope: 'deletion:self' });
    expect(claims.exp! - claims.iat!).toBe(120);
  });
});

describe('npm run mailbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ NOTIFIER: 'dev-mailbox' });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const ask = async () => {
    const subjectId = newSubjectId('mailbox');
    await t.seedAccount({ id: subjectId });
    const created = await t.client.requestDeletion({ subjectId }, (await castFor(subjectId)).self);
    return { subjectId, name: created.name };
  };

  it('shows the messages about one request, each naming it; its code mail says which', async () => {
    const first = await ask();
    const second = await ask();
    const port = String(t.ports.http);

    const one = await script('dev-mailbox', ['--port', port, '--request', first.name]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`to ${t.emailOf(first.subjectId)} (${first.name})`);
    expect(one.stdout).toContain(`Reference: ${first.name}`);
    expect(one.stdout).not.toContain(second.name);
    // The bare id does as well as the name.
    const byId = await script('dev-mailbox', [
      '--port',
      port,
      '--request',
      second.name.split('/')[1]!,
    ]);
    expect(byId.stdout).toContain(`Reference: ${second.name}`);
    expect(byId.stdout).not.toContain(first.name);
    // Newest first.
    const all = await script('dev-mailbox', ['--port', port]);
    expect(all.stdout.indexOf(second.name)).toBeLessThan(all.stdout.indexOf(first.name));
  });

  it('prints its usage with --help instead of reading the mailbox', async () => {
    const help = await script('dev-mailbox', ['--help', '--port', '1']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run -s mailbox/);
    expect(help.stdout).not.toContain('(no messages)');
  });
});

describe('the demo data of npm start', () => {
  it('makes a demo account a deletion erased again at the next start', async () => {
    const first = await startTestApp(
      { SEED_DEMO: 'true', GRACE_PERIOD_SECONDS: '0' },
      { keepDatabase: true },
    );
    const self = { token: await mintToken({ sub: 'alice', scope: 'deletion:self' }) };
    try {
      const since = first.smtp.messages.length;
      const { name } = await first.client.requestDeletion({ subjectId: 'alice' }, self);
      const code = await first.smtp.waitForCode('alice@example.test', since);
      await first.client.confirmDeletion({ name, code }, self);
      await first.app.runWorkerPass();
      expect((await first.client.getDeletionRequest({ name }, self)).state).toBe(
        DeletionRequest_State.STATE_COMPLETED,
      );
      expect(await first.accountStatus('alice')).toBeUndefined();
    } finally {
      await first[Symbol.asyncDispose]();
    }

    const again = await startTestApp({ SEED_DEMO: 'true' }, { dbName: first.dbName });
    try {
      expect(await again.accountStatus('alice')).toBe('ACTIVE');
      expect(await again.count('sessions', { subjectId: 'alice' })).toBe(2);
      // And it can be deleted again.
      const asked = await again.client.requestDeletion({ subjectId: 'alice' }, self);
      expect(asked.state).toBe(DeletionRequest_State.STATE_REQUESTED);
    } finally {
      await again[Symbol.asyncDispose]();
    }
  });
});
