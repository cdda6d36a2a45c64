import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../clients/deletionctl/main.js';
import {
  participantsConfig,
  startFakeParticipant,
  type FakeParticipant,
} from '../support/fake-participant.js';
import { castFor } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);

describe('deletionctl', () => {
  let t: TestApp;
  let fakes: FakeParticipant[];
  let id: string;
  let adminToken: string;

  /** Runs the tool in-process as an SRE with the admin token; returns exit code and output. */
  const ctl = async (args: string[], env: Record<string, string> = {}, out: string[] = []) => {
    const err: string[] = [];
    const code = await main(args, {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      env: {
        DELETION_ADDRESS: `127.0.0.1:${String(t.ports.grpc)}`,
        DELETION_HTTP_URL: `http://127.0.0.1:${String(t.ports.http)}`,
        DELETION_TOKEN: adminToken,
        ...env,
      },
      isTty: false,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    fakes = [
      await startFakeParticipant('billing', {
        outcome: {
          $case: 'retained',
          value: {
            legalBasis: 'tax law',
            categories: ['invoices'],
            until: new Date('2036-01-01T00:00:00Z'),
            erasedRecords: '2',
          },
        },
      }),
      await startFakeParticipant('messaging'),
    ];
    t = await startTestApp({ GRACE_PERIOD_SECONDS: '0', PARTICIPANTS: participantsConfig(fakes) });
    adminToken = (await castFor('sre')).admin.token;
    const request = await t.scheduled();
    await t.app.runWorkerPass();
    id = request.id;
  });

  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    for (const fake of fakes) await fake[Symbol.asyncDispose]();
  });

  it('prints the whole story of a completed deletion with `timeline`', async () => {
    const { code, out } = await ctl(['timeline', id]);
    expect(code).toBe(EXIT.OK);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${id}  COMPLETED  subject `));
    expect(lines[1]).toMatch(/^\S+Z {2}REQUESTED {2}by user-/);
    expect(out).toMatch(/REQUESTED → SCHEDULED {2}by .* \(CONFIRMED_WITH_CODE\)/);
    expect(out).toMatch(/SCHEDULED → ERASING {2}by system\/purge-worker \(GRACE_PERIOD_ELAPSED\)/);
    expect(out).toMatch(/ERASING → COMPLETED {2}by system\/purge-worker \(ERASED\)/);
    expect(out).toMatch(
      /billing: DONE RETAINED 2 records \[invoices\] kept: tax law until 2036-01-01T00:00:00.000Z {2}attempts 1/,
    );
    expect(out).toMatch(/messaging: DONE ERASED 3 records \[profile\] {2}attempts 1/);
    expect(out).toContain('subject told: erasure complete');
    // Time order, ISO timestamps first on every event line; no colour codes off a TTY.
    const times = lines.slice(1).map((line) => line.slice(0, 24));
    expect([...times].sort()).toEqual(times);
    expect(out).not.toContain('\u001b[');
  });

  it('extends a deadline with `extend-deadline`; `timeline` shows it and each notice the subject was sent', async () => {
    const request = await t.scheduled();
    const extended = await ctl([
      'extend-deadline',
      request.id,
      '--reason',
      'Records must first be exported by hand',
    ]);
    expect(extended.code).toBe(EXIT.OK);
    const open = await ctl(['timeline', request.id]);
    expect(open.code).toBe(EXIT.OK);
    expect(open.out).toMatch(
      /deadline extended \S+Z → \S+Z {2}by admin-cy \(Records must first be exported by hand\)/,
    );
    // Grace 0: the pass sends the notices, purges, and destroys the subject's key, and with it
    // the reason (sealed with that key); the extension itself stays on the record.
    await t.app.runWorkerPass();
    const { code, out } = await ctl(['timeline', request.id]);
    expect(code).toBe(EXIT.OK);
    expect(out).toMatch(/deadline extended \S+Z → \S+Z {2}by admin-cy$/m);
    expect(out).toMatch(/subject told: RECEIPT by email/);
    expect(out).toMatch(/subject told: SCHEDULED by email/);
    expect(out).toMatch(/subject told: DEADLINE_EXTENDED by email/);
  });

  it('prints JSON that parses, with --json', async () => {
    const timeline = await ctl(['--json', 'timeline', id]);
    expect(JSON.parse(timeline.out)).toMatchObject({
      name: `deletionRequests/${id}`,
      state: 'STATE_COMPLETED',
    });
    const list = await ctl(['--json', 'list', '--state', 'completed']);
    const names = (
      JSON.parse(list.out) as { deletionRequests: { name: string }[] }
    ).deletionRequests.map((request) => request.name);
    expect(names).toContain(`deletionRequests/${id}`);
    // The queue's filters: its jurisdiction, and by a linked service's step (all answered here).
    const filtered = async (...flags: string[]) =>
      (
        JSON.parse((await ctl(['--json', 'list', ...flags])).out) as {
          deletionRequests?: { name: string }[];
        }
      ).deletionRequests?.map((request) => request.name) ?? [];
    expect(await filtered('--jurisdiction', 'gdpr', '--state', 'completed')).toContain(
      `deletionRequests/${id}`,
    );
    expect(await filtered('--jurisdiction', 'ccpa')).not.toContain(`deletionRequests/${id}`);
    expect(await filtered('--service', 'billing', '--step', 'failed')).toEqual([]);
    expect((await ctl(['list', '--step', 'sideways', '--service', 'billing'])).code).toBe(
      EXIT.USAGE,
    );
    expect((await ctl(['list', '--deadline-before', 'soon'])).code).toBe(EXIT.USAGE);
  });

  it('fetches the signed report and verifies it, and says so when it does not verify', async () => {
    const verified = await ctl(['report', id]);
    expect(verified.code).toBe(EXIT.OK);
    expect(verified.out).toMatch(/^signature valid/);

    const { generateKeyPairSync } = await import('node:crypto');
    const other = join(tmpdir(), `other-key-${String(process.pid)}.pem`);
    writeFileSync(
      other,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const forged = await ctl(['report', id, '--key-file', other]);
    expect(forged.code).toBe(EXIT.REPORT_INVALID);
    expect(forged.err).toContain('does not verify');

    // A saved key set verifies offline; one without the report's key does not.
    const keySet = (await (
      await fetch(`http://127.0.0.1:${String(t.ports.http)}/erasure-report-keys`)
    ).json()) as { keys: unknown[] };
    const saved = join(tmpdir(), `key-set-${String(process.pid)}.json`);
    writeFileSync(saved, JSON.stringify(keySet));
    expect((await ctl(['report', id, '--key-set', saved])).code).toBe(EXIT.OK);
    writeFileSync(saved, JSON.stringify({ keys: [] }));
    const unknown = await ctl(['report', id, '--key-set', saved]);
    expect(unknown.code).toBe(EXIT.REPORT_INVALID);
    expect(unknown.err).toContain('a key the key set does not have');
  });

  it('follows a request live with `watch` until it completes, as lines or JSON lines', async () => {
    const request = await t.scheduled({ prefix: 'watched' });
    const humanLines: string[] = [];
    const jsonLines: string[] = [];
    const watching = ctl(['watch', request.id], {}, humanLines);
    const json = ctl(['--json', 'watch', request.id], {}, jsonLines);
    // Both watches have their snapshot (SCHEDULED) before the purge runs.
    await expect.poll(() => humanLines.length + jsonLines.length).toBe(2);

    await t.app.runWorkerPass();
    const [human, lines] = await Promise.all([watching, json]);

    expect(human.code).toBe(EXIT.OK);
    const out = human.out.split('\n');
    expect(out[0]).toMatch(new RegExp(`^${request.id}  SCHEDULED  subject ${request.subjectId}`));
    expect(human.out).toMatch(
      /SCHEDULED → ERASING {2}by system\/purge-worker \(GRACE_PERIOD_ELAPSED\)/,
    );
    expect(human.out).toMatch(/billing: DONE RETAINED 2 records \[invoices\] kept: tax law/);
    expect(out.at(-1)).toMatch(/ERASING → COMPLETED {2}by system\/purge-worker \(ERASED\)/);
    const events = lines.out.split('\n').map(
      (line) =>
        JSON.parse(line) as {
          kind: string;
          change?: { toState: string };
          participant?: { participant: string; status: string };
        },
    );
    expect(events[0]?.kind).toBe('SNAPSHOT');
    expect(events.flatMap((event) => (event.change ? [event.change.toState] : []))).toEqual([
      'ERASING',
      'COMPLETED',
    ]);
    const lastStatus = Object.fromEntries(
      events.flatMap((event) =>
        event.participant ? [[event.participant.participant, event.participant.status]] : [],
      ),
    );
    expect(lastStatus).toEqual({ billing: 'DONE', messaging: 'DONE' });
    const refused = await ctl(['watch', request.id], { DELETION_TOKEN: '' });
    expect(refused.code).toBe(EXIT.DENIED);
    expect(refused.err).toMatch(/^deletionctl: UNAUTHENTICATED MISSING_CREDENTIALS/);
  });

  it('lists the audit events of a request and verifies the chain with `audit`; shows the breaker', async () => {
    const listed = await ctl(['audit', 'list', '--request', id, '--kind', 'state_changed']);
    expect(listed.code).toBe(EXIT.OK);
    const lines = listed.out.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((line) => line.includes('STATE_CHANGED') && line.includes(id))).toBe(true);
    expect(lines.at(-1)).toContain('to=COMPLETED');
    const json = await ctl(['--json', 'audit', 'list', '--request', id, '--page-size', '1']);
    const page = JSON.parse(json.out) as { auditEvents: unknown[]; nextPageToken: string };
    expect(page.auditEvents).toHaveLength(1);
    expect(page.nextPageToken).not.toBe('');
    expect((await ctl(['audit', 'list', '--kind', 'nonsense'])).code).toBe(EXIT.USAGE);
    expect((await ctl(['audit', 'list', '--since', 'yesterday'])).code).toBe(EXIT.USAGE);

    const verified = await ctl(['audit', 'verify']);
    expect(verified).toMatchObject({
      code: EXIT.OK,
      out: expect.stringMatching(/^intact: \d+ events/) as string,
    });

    const status = await ctl(['breaker', 'status']);
    expect(status.code).toBe(EXIT.OK);
    expect(status.out).toMatch(/^erasures running\n\d+\/100 erasures started in the last 3600 s/);
    const resumed = await ctl(['breaker', 'resume', '--justification', 'nothing paused: no-op']);
    expect(resumed).toMatchObject({
      code: EXIT.OK,
      out: expect.stringContaining('erasures running') as string,
    });
    const notAdmin = await ctl(['breaker', 'status'], {
      DELETION_TOKEN: (await castFor('sre')).service.token,
    });
    expect(notAdmin.code).toBe(EXIT.DENIED);
  });

  it('exits with a code per kind of failure', async () => {
    expect((await ctl(['get', 'no-such-request'])).code).toBe(EXIT.NOT_FOUND);
    expect((await ctl(['get', id], { DELETION_TOKEN: '' })).code).toBe(EXIT.DENIED);
    const conflict = await ctl(['retry', id, 'billing']);
    expect(conflict.code).toBe(EXIT.CONFLICT);
    expect(conflict.err).toMatch(/^deletionctl: FAILED_PRECONDITION /);
    expect((await ctl(['get'])).code).toBe(EXIT.USAGE);
    expect(
      (await ctl(['resolve', id, 'billing', '--justification', 'x', '--records', 'many'])).code,
    ).toBe(EXIT.USAGE);
    expect((await ctl(['mailbox'])).code).toBe(EXIT.USAGE); // SMTP here: no dev mailbox
    const away = await ctl(['get', id], { DELETION_ADDRESS: '127.0.0.1:1' });
    expect(away.code).toBe(EXIT.UNAVAILABLE);
    expect(away.err).toMatch(/^deletionctl: UNAVAILABLE: /);
    expect(away.err).not.toMatch(/Resolution note:\s*$/);
  });

  it('reports failures as JSON under --json, and lists its exit codes in --help', async () => {
    for (const [args, env, exitCode, code] of [
      [['get', 'no-such-request', '--json'], {}, EXIT.NOT_FOUND, 'NOT_FOUND'],
      [['retry', id, 'billing', '--json'], {}, EXIT.CONFLICT, 'FAILED_PRECONDITION'],
      [['get', '--json'], {}, EXIT.USAGE, 'USAGE'],
      [['get', id, '--json'], { DELETION_ADDRESS: '127.0.0.1:1' }, EXIT.UNAVAILABLE, 'UNAVAILABLE'],
    ] as const) {
      const failure = await ctl([...args], env);
      expect(failure.code).toBe(exitCode);
      const parsed = JSON.parse(failure.err) as { error: Record<string, unknown> };
      expect(parsed.error).toMatchObject({ code, exitCode });
      expect(typeof parsed.error.message).toBe('string');
    }
    const out: string[] = [];
    const help = await ctl(['--help'], {}, out);
    expect(help.code).toBe(EXIT.OK);
    expect(help.out).toContain('Exit codes:');
    for (const code of Object.values(EXIT))
      expect(help.out).toMatch(new RegExp(`^  ${String(code)}  \\S`, 'm'));
  });

  it('finds the development credentials npm start wrote, says so, and only for that service', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'deletionctl-dev-'));
    const address = `127.0.0.1:${String(t.ports.grpc)}`;
    writeFileSync(
      join(dataDir, 'dev-credentials.json'),
      JSON.stringify({
        address,
        httpUrl: `http://127.0.0.1:${String(t.ports.http)}`,
        token: adminToken,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    const withoutToken = { DELETION_TOKEN: '', DATA_DIR: dataDir };

    const found = await ctl(['timeline', id], withoutToken);
    expect(found.code).toBe(EXIT.OK);
    expect(found.out).toContain('COMPLETED');
    expect(found.err).toContain(
      `using the development operator's that npm start wrote to ${dataDir}`,
    );

    // Another service's address: the development token is not sent there.
    const elsewhere = await ctl(['timeline', id], {
      ...withoutToken,
      DELETION_ADDRESS: `localhost:${String(t.ports.grpc)}`,
    });
    expect(elsewhere.code).toBe(EXIT.DENIED);
    expect(elsewhere.err).not.toContain('development');
  });

  it('runs as `npx deletionctl` from the repository', async () => {
    const env = {
      ...process.env,
      DELETION_ADDRESS: `127.0.0.1:${String(t.ports.grpc)}`,
      DELETION_TOKEN: adminToken,
    };
    const { stdout } = await run('npx', ['deletionctl', 'get', id], { env });
    expect(stdout).toMatch(new RegExp(`^${id}  COMPLETED`));
    const missing = await run('npx', ['deletionctl', 'get', 'nope'], { env }).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(missing).toMatchObject({ code: EXIT.NOT_FOUND });
  }, 60_000);
});
