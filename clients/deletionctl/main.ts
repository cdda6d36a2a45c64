import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from '@commander-js/extra-typings';
import {
  DeletionRequest,
  DeletionRequest_State,
  deletionRequest_StateFromJSON,
} from '@account-deletion/grpc-client/gen/deletion/v1/deletion_request.js';
import {
  AuditEventKind,
  auditEventKindFromJSON,
  LinkedServiceStep,
  linkedServiceStepFromJSON,
  ListAuditEventsResponse,
  ListDeletionRequestsResponse,
  SafetyStatus,
  VerifyAuditLogResponse,
} from '@account-deletion/grpc-client/gen/deletion/v1/deletion_service.js';
import {
  ErasureReportInvalid,
  verifyErasureReport,
  verifyErasureReportWithKeySet,
  type ReportKeySet,
} from '@account-deletion/erasure-report';
import {
  createDeletionClient,
  DeletionServiceError,
  type Auth,
  type DeletionClient,
  type TlsOptions,
} from '@account-deletion/grpc-client';
import {
  createDeletionClient as createTrpcClient,
  isDeletionClientError,
  type DeletionEventView,
} from '@account-deletion/trpc-client';
import {
  paint,
  renderAuditEvents,
  renderEvent,
  renderList,
  renderRequest,
  renderSafety,
  renderTimeline,
  renderVerdict,
} from './render.js';

/** A watch event as one JSON line: the snapshot carries the request, later events what changed. */
const eventJson = (event: DeletionEventView): object => {
  switch (event.kind) {
    case 'SNAPSHOT':
      return event;
    case 'STATE_CHANGED':
      return { kind: event.kind, change: event.change, state: event.request.state };
    case 'PARTICIPANT_CHANGED':
      return { kind: event.kind, participant: event.participant, state: event.request.state };
    case 'RECONNECT':
      return event;
  }
};

/** Exit codes scripts can rely on. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  DENIED: 4,
  CONFLICT: 5,
  UNAVAILABLE: 6,
  REPORT_INVALID: 7,
  AUDIT_BROKEN: 8,
} as const;

/** Failures of the tool itself, not answers of the service: a person reads just the message. */
const ownCodes = new Set(['USAGE', 'REPORT_INVALID', 'FAILED']);

const exitOf: Readonly<Record<string, number>> = {
  NOT_FOUND: EXIT.NOT_FOUND,
  UNAUTHENTICATED: EXIT.DENIED,
  PERMISSION_DENIED: EXIT.DENIED,
  FAILED_PRECONDITION: EXIT.CONFLICT,
  ABORTED: EXIT.CONFLICT,
  ALREADY_EXISTS: EXIT.CONFLICT,
  INVALID_ARGUMENT: EXIT.USAGE,
  UNAVAILABLE: EXIT.UNAVAILABLE,
  DEADLINE_EXCEEDED: EXIT.UNAVAILABLE,
};

/** Where output goes and what the process knows (so tests can run it in-process). */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
}

class UsageError extends Error {}

const DEFAULT_ADDRESS = '127.0.0.1:50051';

/**
 * The credentials `npm start` writes for development tools
 * (`<DATA_DIR>/dev-credentials.json`, DATA_DIR `.data` by default), when they
 * are for the service at `address` and not expired; undefined otherwise.
 */
const developmentCredentials = (
  env: Io['env'],
  address: string,
): { readonly token: string; readonly path: string } | undefined => {
  const path = join(env.DATA_DIR ?? '.data', 'dev-credentials.json');
  let written: unknown;
  try {
    written = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof written !== 'object' || written === null) return undefined;
  const { address: at, token, expiresAt } = written as Record<string, unknown>;
  if (at !== address || typeof token !== 'string' || typeof expiresAt !== 'string')
    return undefined;
  return Date.parse(expiresAt) > Date.now() ? { token, path } : undefined;
};

/** An RFC 3339 option as a Date; a usage error when it is not one. */
const timeOption = (flag: string, value: string | undefined): Date | undefined => {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new UsageError(`${flag} must be an RFC 3339 time`);
  return at;
};

const nameOf = (id: string) => (id.startsWith('deletionRequests/') ? id : `deletionRequests/${id}`);

interface Connection {
  address?: string;
  token?: string;
  tokenFile?: string;
  apiKey?: string;
  deadlineMs: string;
  json?: boolean;
  color?: boolean;
  httpUrl?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
}

/**
 * `deletionctl`, the SRE tool: reads and acts on deletion requests over
 * gRPC (`clients/grpc`), prints them for people (colour on a TTY) or as JSON,
 * and exits with a code per kind of failure (EXIT).
 */
export const main = async (argv: readonly string[], io: Io): Promise<number> => {
  let client: DeletionClient | undefined;
  /** A command that ran but found something wrong (a broken audit chain) sets its own exit. */
  let exitCode: number = EXIT.OK;
  const addressOf = (options: Connection) =>
    options.address ?? io.env.DELETION_ADDRESS ?? DEFAULT_ADDRESS;
  let toldOfDevelopment = false;
  const credentials = (options: Connection): { token: string } | { apiKey: string } | undefined => {
    const token =
      options.token ??
      (options.tokenFile ? readFileSync(options.tokenFile, 'utf8').trim() : undefined) ??
      io.env.DELETION_TOKEN;
    const apiKey = options.apiKey ?? io.env.DELETION_API_KEY;
    if (token) return { token };
    if (apiKey) return { apiKey };
    const development = developmentCredentials(io.env, addressOf(options));
    if (development === undefined) return undefined;
    if (!toldOfDevelopment)
      io.err(
        `deletionctl: no credentials given: using the development operator's that npm start wrote to ${development.path} (--token or DELETION_TOKEN to act as someone else)`,
      );
    toldOfDevelopment = true;
    return { token: development.token };
  };
  /** TLS when any TLS option is set: the CA of the service, and a client certificate for mutual TLS. */
  const tlsOf = (options: Connection): TlsOptions | undefined => {
    const ca = options.tlsCa ?? io.env.DELETION_TLS_CA;
    const cert = options.tlsCert ?? io.env.DELETION_TLS_CERT;
    const key = options.tlsKey ?? io.env.DELETION_TLS_KEY;
    const serverName = options.tlsServerName;
    if ((cert === undefined) !== (key === undefined))
      throw new UsageError('--tls-cert and --tls-key go together');
    if ([ca, cert, serverName].every((value) => value === undefined)) return undefined;
    return {
      ...(ca === undefined ? {} : { ca: readFileSync(ca) }),
      ...(cert === undefined ? {} : { cert: readFileSync(cert) }),
      ...(key === undefined ? {} : { key: readFileSync(key) }),
      ...(serverName === undefined ? {} : { serverName }),
    };
  };
  const connect = (options: Connection): DeletionClient => {
    const auth: Auth | undefined = credentials(options);
    const tls = tlsOf(options);
    const deadlineMs = Number(options.deadlineMs);
    if (!Number.isInteger(deadlineMs) || deadlineMs <= 0)
      throw new UsageError('--deadline-ms must be a positive integer');
    client = createDeletionClient({
      address: addressOf(options),
      ...(auth ? { auth } : {}),
      ...(tls ? { tls } : {}),
      deadlineMs,
    });
    return client;
  };
  const colours = (options: Connection) =>
    paint(!options.json && options.color !== false && io.isTty && !io.env.NO_COLOR);
  const httpBase = (options: Connection) =>
    (options.httpUrl ?? io.env.DELETION_HTTP_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const show = (options: Connection, request: DeletionRequest) =>
    io.out(
      options.json
        ? JSON.stringify(DeletionRequest.toJSON(request), null, 2)
        : renderRequest(request, colours(options)),
    );

  const json = argv.includes('--json');
  const program = new Command()
    .name('deletionctl')
    .description(
      'Read and operate account deletions (gRPC; watch over tRPC; DELETION_ADDRESS, DELETION_HTTP_URL, DELETION_TOKEN)',
    )
    .option('--address <host:port>', 'gRPC address (default $DELETION_ADDRESS or 127.0.0.1:50051)')
    .option('--token <jwt>', 'bearer token (default $DELETION_TOKEN)')
    .option('--token-file <path>', 'read the bearer token from a file')
    .option('--api-key <key>', 'API key (default $DELETION_API_KEY)')
    .option('--tls-ca <file>', 'TLS: PEM CA of the service (default $DELETION_TLS_CA)')
    .option('--tls-cert <file>', 'mutual TLS: PEM client certificate (default $DELETION_TLS_CERT)')
    .option('--tls-key <file>', 'mutual TLS: PEM client key (default $DELETION_TLS_KEY)')
    .option('--tls-server-name <name>', 'TLS: the name to check in the service certificate')
    .option('--deadline-ms <ms>', 'deadline of each call', '10000')
    .option('--http-url <url>', 'HTTP base of the service (watch, report key, dev mailbox)')
    .option('--json', 'machine-readable output')
    .option('--no-color', 'no colours')
    .addHelpText(
      'after',
      `
Exit codes:
  ${String(EXIT.OK)}  done
  ${String(EXIT.FAILED)}  failed otherwise
  ${String(EXIT.USAGE)}  usage: a wrong command, option or value
  ${String(EXIT.NOT_FOUND)}  no such request
  ${String(EXIT.DENIED)}  not allowed, or no valid credentials
  ${String(EXIT.CONFLICT)}  the request is not in a state that allows it, or changed meanwhile
  ${String(EXIT.UNAVAILABLE)}  the service or its database could not be reached: try again
  ${String(EXIT.REPORT_INVALID)}  the erasure report does not verify
  ${String(EXIT.AUDIT_BROKEN)}  the audit chain is broken or incomplete
With --json, a failure is one JSON object on stderr: {"error":{"code","reason","message","exitCode"}}.`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      // Under --json a usage error is a JSON object too.
      writeErr: (text) => {
        io.err(
          json
            ? JSON.stringify({
                error: { code: 'USAGE', reason: '', message: text.trim(), exitCode: EXIT.USAGE },
              })
            : text,
        );
      },
    });

  program
    .command('get')
    .description('a deletion request at a glance')
    .argument('<id>')
    .action(async (id) => {
      const options = program.opts();
      show(options, await connect(options).getDeletionRequest({ name: nameOf(id) }));
    });

  program
    .command('list')
    .description('deletion requests, newest first')
    .option('--state <state>', 'e.g. NEEDS_ATTENTION')
    .option('--subject <id>', 'one subject')
    .option('--jurisdiction <name>', 'GDPR or CCPA')
    .option('--service <name>', 'waiting on this linked service (its step not done)')
    .option('--step <step>', 'with --service: its step waiting or failed')
    .option('--deadline-before <time>', 'open requests due before (RFC 3339), soonest first')
    .option('--page-size <n>', 'how many', '50')
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (local) => {
      const options = program.opts();
      const state =
        local.state === undefined
          ? DeletionRequest_State.STATE_UNSPECIFIED
          : deletionRequest_StateFromJSON(`STATE_${local.state.toUpperCase()}`);
      if (state === DeletionRequest_State.UNRECOGNIZED)
        throw new UsageError(`unknown state ${local.state ?? ''}`);
      const step =
        local.step === undefined
          ? LinkedServiceStep.LINKED_SERVICE_STEP_UNSPECIFIED
          : linkedServiceStepFromJSON(`LINKED_SERVICE_STEP_${local.step.toUpperCase()}`);
      if (step === LinkedServiceStep.UNRECOGNIZED)
        throw new UsageError(`unknown step ${local.step ?? ''} (waiting or failed)`);
      const deadlineBefore =
        local.deadlineBefore === undefined ? undefined : new Date(local.deadlineBefore);
      if (deadlineBefore !== undefined && Number.isNaN(deadlineBefore.getTime()))
        throw new UsageError(`not a time: ${local.deadlineBefore ?? ''}`);
      const page = await connect(options).listDeletionRequests({
        state,
        subjectId: local.subject ?? '',
        jurisdiction: local.jurisdiction?.toUpperCase() ?? '',
        linkedService: local.service ?? '',
        linkedServiceStep: step,
        ...(deadlineBefore !== undefined && { deadlineBefore }),
        pageSize: Number(local.pageSize),
        pageToken: local.pageToken ?? '',
      });
      if (options.json) {
        io.out(JSON.stringify(ListDeletionRequestsResponse.toJSON(page), null, 2));
        return;
      }
      io.out(renderList(page.deletionRequests, colours(options)));
      if (page.nextPageToken) io.out(`next page: --page-token ${page.nextPageToken}`);
    });

  program
    .command('timeline')
    .description('the whole story of a request: transitions, linked-service steps, trace ids')
    .argument('<id>')
    .action(async (id) => {
      const options = program.opts();
      const request = await connect(options).getDeletionRequest({ name: nameOf(id) });
      if (options.json) show(options, request);
      else io.out(renderTimeline(request, colours(options)));
    });

  const transition = (
    verb: 'approve' | 'cancel' | 'undelete',
    call: (client: DeletionClient, name: string) => Promise<DeletionRequest>,
  ) =>
    program
      .command(verb)
      .argument('<id>')
      .action(async (id) => {
        const options = program.opts();
        show(options, await call(connect(options), nameOf(id)));
      });
  transition('approve', (c, name) => c.approveDeletion({ name })).description(
    'approve a request awaiting approval (four eyes)',
  );
  transition('cancel', (c, name) => c.cancelDeletion({ name })).description(
    'cancel a request before it is scheduled',
  );
  transition('undelete', (c, name) => c.undeleteDeletionRequest({ name })).description(
    'restore the account during the grace period',
  );

  program
    .command('reject')
    .description('reject a request awaiting approval')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why (stored, shown to the requester)')
    .action(async (id, local) => {
      const options = program.opts();
      show(
        options,
        await connect(options).rejectDeletion({ name: nameOf(id), reason: local.reason }),
      );
    });

  program
    .command('extend-deadline')
    .description(
      'extend the legal deadline once (GDPR +2 months, CCPA +45 days); the subject is told why (deletion:admin, audited)',
    )
    .argument('<id>')
    .requiredOption('--reason <text>', 'why more time is needed, as the subject will read it')
    .action(async (id, local) => {
      const options = program.opts();
      show(
        options,
        await connect(options).extendDeadline({ name: nameOf(id), reason: local.reason }),
      );
    });

  program
    .command('retry')
    .description("re-arm a linked service's failed step (deletion:admin)")
    .argument('<id>')
    .argument('<participant>')
    .action(async (id, participant) => {
      const options = program.opts();
      show(options, await connect(options).retryParticipant({ name: nameOf(id), participant }));
    });

  program
    .command('resolve')
    .description('record that a linked service was erased by hand (deletion:admin, audited)')
    .argument('<id>')
    .argument('<participant>')
    .requiredOption('--justification <text>', 'what was done, by whom')
    .requiredOption('--records <n>', 'how many records were erased')
    .action(async (id, participant, local) => {
      const options = program.opts();
      if (!/^\d+$/.test(local.records)) throw new UsageError('--records must be a count');
      show(
        options,
        await connect(options).resolveParticipant({
          name: nameOf(id),
          participant,
          justification: local.justification,
          records: local.records,
        }),
      );
    });

  program
    .command('report')
    .description('fetch the signed erasure report and verify it')
    .argument('<id>')
    .option('--key-file <path>', 'one public key (PEM) to verify with')
    .option(
      '--key-set <path>',
      'a saved key set (JSON of GET /erasure-report-keys); default: fetched from the service',
    )
    .action(async (id, local) => {
      const options = program.opts();
      const report = await connect(options).getErasureReport({ name: nameOf(id) });
      const content = local.keyFile
        ? verifyErasureReport(report, readFileSync(local.keyFile, 'utf8'))
        : verifyErasureReportWithKeySet(
            report,
            local.keySet
              ? (JSON.parse(readFileSync(local.keySet, 'utf8')) as ReportKeySet)
              : ((await (
                  await fetch(`${httpBase(options)}/erasure-report-keys`)
                ).json()) as ReportKeySet),
          );
      io.out(
        options.json
          ? JSON.stringify(content, null, 2)
          : `signature valid (key ${report.keyId})\n${JSON.stringify(content, null, 2)}`,
      );
    });

  const audit = program.command('audit').description('the audit log (deletion:admin)');
  audit
    .command('list')
    .description('audit events in chain order, oldest first')
    .option(
      '--kind <kind>',
      'STATE_CHANGED, PRIVILEGED_READ, ADMIN_ACTION, ERASURES_PAUSED, ERASURES_RESUMED, KEY_DESTROYED, RECORD_SWEPT',
    )
    .option('--request <id>', 'one deletion request')
    .option('--subject <id>', 'one subject (matched through its pseudonym)')
    .option('--since <time>', 'at or after (RFC 3339)')
    .option('--until <time>', 'before (RFC 3339)')
    .option('--page-size <n>', 'how many', '100')
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (local) => {
      const options = program.opts();
      const kind =
        local.kind === undefined
          ? AuditEventKind.AUDIT_EVENT_KIND_UNSPECIFIED
          : auditEventKindFromJSON(`AUDIT_EVENT_KIND_${local.kind.toUpperCase()}`);
      if (kind === AuditEventKind.UNRECOGNIZED)
        throw new UsageError(`unknown kind ${local.kind ?? ''}`);
      const page = await connect(options).listAuditEvents({
        kind,
        deletionRequest: local.request === undefined ? '' : nameOf(local.request),
        subjectId: local.subject ?? '',
        startTime: timeOption('--since', local.since),
        endTime: timeOption('--until', local.until),
        pageSize: Number(local.pageSize),
        pageToken: local.pageToken ?? '',
      });
      if (options.json) {
        io.out(JSON.stringify(ListAuditEventsResponse.toJSON(page), null, 2));
        return;
      }
      io.out(renderAuditEvents(page.auditEvents, colours(options)));
      if (page.nextPageToken) io.out(`next page: --page-token ${page.nextPageToken}`);
    });
  audit
    .command('verify')
    .description(
      `check every link of the chain and that every change, answer and notice has its event; exit ${String(EXIT.AUDIT_BROKEN)} when broken or incomplete`,
    )
    .action(async () => {
      const options = program.opts();
      const verdict = await connect(options).verifyAuditLog({});
      io.out(
        options.json
          ? JSON.stringify(VerifyAuditLogResponse.toJSON(verdict), null, 2)
          : renderVerdict(verdict, colours(options)),
      );
      // A server older than completeness checks sends none (nothing checked): only its chain counts.
      const checked = verdict.requestsChecked !== '0' || verdict.eventsExpected !== '0';
      if (!verdict.intact || (checked && !verdict.complete)) exitCode = EXIT.AUDIT_BROKEN;
    });

  const breaker = program
    .command('breaker')
    .description('the mass-deletion breaker (deletion:admin)');
  const showSafety = (options: Connection, status: SafetyStatus) =>
    io.out(
      options.json
        ? JSON.stringify(SafetyStatus.toJSON(status), null, 2)
        : renderSafety(status, colours(options)),
    );
  breaker
    .command('status')
    .description('whether erasures are paused, and how many started in the window')
    .action(async () => {
      const options = program.opts();
      showSafety(options, await connect(options).getSafetyStatus({}));
    });
  breaker
    .command('resume')
    .description('resume paused erasures (audited; not by the requester that tripped it)')
    .requiredOption('--justification <text>', 'why it is safe to go on, e.g. a ticket')
    .action(async (local) => {
      const options = program.opts();
      showSafety(
        options,
        await connect(options).resumeErasures({ justification: local.justification }),
      );
    });

  program
    .command('watch')
    .description(
      'follow a request live (tRPC over --http-url): each state change and linked-service step as it happens; ends at a final state',
    )
    .argument('<id>')
    .action(async (id) => {
      const options = program.opts();
      const live = createTrpcClient({ url: `${httpBase(options)}/trpc`, ...credentials(options) });
      await new Promise<void>((resolve, reject) => {
        live.watchDeletionRequest.subscribe(
          { name: nameOf(id) },
          {
            onData: ({ data: event }) =>
              io.out(
                options.json
                  ? JSON.stringify(eventJson(event))
                  : renderEvent(event, colours(options)),
              ),
            onComplete: resolve,
            onError: reject,
          },
        );
      });
    });

  program
    .command('mailbox')
    .description('development only: the messages of the dev mailbox')
    .argument('[address]')
    .action(async (address) => {
      const options = program.opts();
      const query = address ? `?to=${encodeURIComponent(address)}` : '';
      const response = await fetch(`${httpBase(options)}/dev/mailbox${query}`);
      if (response.status === 404)
        throw new UsageError('this service has no dev mailbox (production, or SMTP configured)');
      const { messages } = (await response.json()) as {
        messages: { to: string; subject: string; text: string; sentAt: string }[];
      };
      io.out(
        options.json
          ? JSON.stringify(messages, null, 2)
          : messages
              .map(
                (m) =>
                  `${m.sentAt}  to ${m.to}\n  ${m.subject}\n  ${m.text.replaceAll('\n', '\n  ')}`,
              )
              .join('\n\n'),
      );
    });

  /** A failure on stderr: one line for a person, one JSON object under --json; its exit code. */
  const failed = (failure: { code: string; reason?: string; message: string }, exit: number) => {
    const { code, reason = '', message } = failure;
    io.err(
      json
        ? JSON.stringify({ error: { code, reason, message, exitCode: exit } })
        : `deletionctl: ${ownCodes.has(code) ? '' : `${code}${reason ? ` ${reason}` : ''}: `}${message}`,
    );
    return exit;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (error instanceof UsageError)
      return failed({ code: 'USAGE', message: error.message }, EXIT.USAGE);
    if (error instanceof DeletionServiceError)
      return failed(error, exitOf[error.code] ?? EXIT.FAILED);
    if (isDeletionClientError(error)) {
      const code = error.data?.status ?? 'UNAVAILABLE';
      const reason = error.data?.reason ?? '';
      return failed({ code, reason, message: error.message }, exitOf[code] ?? EXIT.FAILED);
    }
    if (error instanceof ErasureReportInvalid)
      return failed(
        { code: 'REPORT_INVALID', message: `the erasure report does not verify: ${error.message}` },
        EXIT.REPORT_INVALID,
      );
    const message = error instanceof Error ? error.message : String(error);
    return failed({ code: 'FAILED', message }, EXIT.FAILED);
  } finally {
    client?.close();
  }
};
