import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkParticipant,
  type RuleResult,
} from '../../clients/participant-conformance/check-participant.js';
import { createParticipantServer } from '../../clients/participant-sdk/create-participant-server.js';
import { createTestCertificates } from '../support/test-certificates.js';
import {
  startLinkedServices,
  type LinkedServices,
} from '../../examples/linked-services/start-linked-services.js';
import {
  ErasureParticipantServiceService,
  type EraseRequest,
  type EraseResponse,
  type Subject,
} from '../../src/gen/deletion/participant/v1/erasure_participant_service.js';

const run = promisify(execFile);

/**
 * A linked service written without the SDK that gets idempotency wrong: it
 * deletes what it finds and answers with the count, so a repeat of the same
 * deletion request answers NOTHING_FOUND instead of what the first call did.
 */
const startNonIdempotentService = async (subjects: readonly string[]) => {
  const records = new Map(subjects.map((subject) => [subject, 5]));
  const server = new Server();
  const echo = (
    call: ServerUnaryCall<{ subject?: Subject }, { subject?: Subject }>,
    callback: sendUnaryData<{ subject?: Subject }>,
  ) =>
    call.request.subject?.subjectId
      ? callback(null, { subject: call.request.subject })
      : callback({ code: status.INVALID_ARGUMENT, details: 'subject required' });
  server.addService(ErasureParticipantServiceService, {
    suspend: echo,
    restore: echo,
    erase: (
      call: ServerUnaryCall<EraseRequest, EraseResponse>,
      callback: sendUnaryData<EraseResponse>,
    ) => {
      const subject = call.request.subject;
      if (!subject?.subjectId) {
        callback({ code: status.INVALID_ARGUMENT, details: 'subject required' });
        return;
      }
      const found = records.get(subject.subjectId) ?? 0;
      records.delete(subject.subjectId);
      callback(null, {
        subject,
        outcome:
          found > 0
            ? { $case: 'erased', value: { records: String(found), categories: ['notes'] } }
            : { $case: 'nothingFound', value: {} },
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${String(port)}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
};

const failedRules = (results: readonly RuleResult[]) =>
  results.filter((result) => !result.passed).map((result) => result.rule);

describe('participant conformance kit', () => {
  let examples: LinkedServices;
  let broken: Awaited<ReturnType<typeof startNonIdempotentService>>;
  const slow = createParticipantServer({
    suspend: () => new Promise((resolve) => setTimeout(resolve, 400)),
    restore: () => new Promise((resolve) => setTimeout(resolve, 400)),
    erase: () => new Promise((resolve) => setTimeout(() => resolve({ kind: 'nothingFound' }), 400)),
  });
  let slowAddress: string;

  beforeAll(async () => {
    examples = await startLinkedServices({
      subjects: ['kit-subject-1', 'kit-subject-2', 'kit-subject-3', 'kit-subject-4'],
      deletionService: '127.0.0.1:1',
      token: () => Promise.resolve('unused'),
      analyticsJobDelayMs: 600_000,
    });
    broken = await startNonIdempotentService(['kit-subject-1', 'kit-cli-subject']);
    slowAddress = `127.0.0.1:${String(await slow.listen('127.0.0.1', 0))}`;
  });

  afterAll(async () => {
    await examples.close();
    await broken.close();
    await slow.close();
  });

  it('passes every rule against each example linked service, with real data erased', async () => {
    for (const [index, participant] of examples.participants.entries()) {
      const results = await checkParticipant({
        address: participant.address,
        subjectWithData: `kit-subject-${String(index + 1)}`,
      });
      expect(failedRules(results), `${participant.name}: ${JSON.stringify(results)}`).toEqual([]);
      expect(results).toHaveLength(5);
    }
  });

  it('reports what each example answered for its subject', async () => {
    const byName = Object.fromEntries(examples.participants.map((p) => [p.name, p.address]));
    const idempotency = async (name: string) =>
      (await checkParticipant({ address: byName[name]!, subjectWithData: 'kit-subject-4' })).find(
        (result) => result.rule.startsWith('Erase is idempotent'),
      )!.detail;
    expect(await idempotency('billing')).toMatch(/^RETAINED\(Tax law.*invoices, erased 2\) ×4$/);
    expect(await idempotency('messaging')).toBe('ERASED(43, messages+attachments) ×4');
    expect(await idempotency('analytics')).toMatch(/^ACCEPTED\(by .*\) ×4$/);
  });

  it('fails a service whose Erase is not idempotent, and only on that rule', async () => {
    const results = await checkParticipant({
      address: broken.address,
      subjectWithData: 'kit-subject-1',
    });
    expect(failedRules(results)).toEqual([
      'Erase is idempotent on the deletion request (repeats answer the same)',
    ]);
    expect(results.find((result) => !result.passed)!.detail).toBe(
      'first ERASED(5, notes), then NOTHING_FOUND',
    );
  });

  it('fails a service that does not answer within the deadline', async () => {
    const results = await checkParticipant({ address: slowAddress, timeoutMs: 150 });
    expect(failedRules(results)).toEqual([
      'answers NOTHING_FOUND for an unknown subject, echoing it',
      'Suspend and Restore are idempotent and echo the subject',
      'Erase is idempotent on the deletion request (repeats answer the same)',
      'answers within the deadline, and a call abandoned at its deadline does not break the next',
    ]);
    expect(results[1]!.detail).toMatch(/DEADLINE_EXCEEDED/);
  });

  it('fails every rule, without throwing, when nothing listens at the address', async () => {
    const results = await checkParticipant({ address: '127.0.0.1:1', timeoutMs: 500 });
    expect(results.every((result) => !result.passed)).toBe(true);
  });

  it('runs from the command line with exit codes scripts can rely on', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'clients/participant-conformance/cli.ts', ...args]);
    const messaging = examples.participants.find((p) => p.name === 'messaging')!;
    const passed = await cli('--address', messaging.address);
    expect(passed.stdout).toContain('all 5 rules pass');

    const failed = await cli('--address', broken.address, '--subject', 'kit-cli-subject').catch(
      (error: unknown) => error as { code: number; stdout: string },
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stdout: string }).stdout).toContain('FAIL  Erase is idempotent');

    const usage = await cli().catch((error: unknown) => error as { code: number });
    expect(usage).toMatchObject({ code: 2 });
  }, 60_000);

  it('checks a service that requires mutual TLS, with --ca, --cert and --key', async () => {
    using certificates = createTestCertificates();
    const secure = createParticipantServer(
      {
        suspend: () => Promise.resolve(),
        restore: () => Promise.resolve(),
        erase: () => Promise.resolve({ kind: 'nothingFound' as const }),
      },
      {
        tls: {
          cert: certificates.server.cert,
          key: certificates.server.key,
          clientCa: certificates.ca.cert,
        },
      },
    );
    const address = `127.0.0.1:${String(await secure.listen('127.0.0.1', 0))}`;
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'clients/participant-conformance/cli.ts', ...args]);
    try {
      const { stdout } = await cli(
        '--address',
        address,
        '--ca',
        certificates.ca.certFile,
        '--cert',
        certificates.client.certFile,
        '--key',
        certificates.client.keyFile,
      );
      expect(stdout).toContain('all 5 rules pass');

      const refused = await cli('--address', address, '--ca', certificates.ca.certFile).catch(
        (error: unknown) => error as { code: number; stdout: string },
      );
      expect(refused).toMatchObject({ code: 1 });
      expect((refused as { stdout: string }).stdout).toContain('5 rule(s) fail');

      const halfPair = await cli(
        '--address',
        address,
        '--cert',
        certificates.client.certFile,
      ).catch((error: unknown) => error as { code: number });
      expect(halfPair).toMatchObject({ code: 2 });
    } finally {
      await secure.close();
    }
  }, 60_000);
});
