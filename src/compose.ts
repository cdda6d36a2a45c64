import { access } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { createAfterwards, type Afterwards } from './app/common/afterwards.js';
import type { DeletionDeps, DeletionPolicy } from './app/deletion-deps.js';
import { createDeletionService, type DeletionService } from './app/deletion-service.js';
import { auditTransitions, createAuditOutbox } from './app/audit/audit-trail.js';
import { auditPrivilegedCalls } from './app/decorators/audited-service.js';
import { rateLimitDeletionService } from './app/decorators/rate-limited-service.js';
import type { Clock } from './app/ports/clock.js';
import type { Notifier } from './app/ports/notifier.js';
import type { Participants } from './app/ports/participants.js';
import type { ReportSigner } from './app/ports/report-signer.js';
import { createReportLinks } from './crypto/report-links.js';
import { getReportByLink } from './app/requests/get-report-by-link.js';
import type { SubjectCipher, SubjectKeyStore } from './app/ports/subject-keys.js';
import { within } from './app/common/bounded.js';
import { runWorkerPass, settleStragglers } from './app/worker/run-worker-pass.js';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import { gateByClientCertificate } from './auth/client-certificate.js';
import { ConfigError, type Config } from './config/load-config.js';
import { DomainError } from './domain/domain-error.js';
import type { SubjectId } from './domain/ids.js';
import { hashApiKey } from './crypto/api-key-hash.js';
import { createAuditSeal } from './crypto/audit-seal.js';
import {
  createEd25519ReportSigner,
  reportKeySet,
  type ReportKeySet,
} from './crypto/ed25519-report-signer.js';
import { createLocalKeyEncryptionKey } from './crypto/local-key-encryption-key.js';
import { cacheSubjectKeys } from './crypto/cached-subject-keys.js';
import { createSubjectCipher } from './crypto/subject-cipher.js';
import { createHmacOneTimeCodes, createRandomIds } from './crypto/hmac-one-time-codes.js';
import { createRateLimitKeys } from './crypto/rate-limit-keys.js';
import { createSubjectPseudonyms } from './crypto/subject-pseudonyms.js';
import { createNotifier, type Channel } from './notify/notifier.js';
import { createPushChannel } from './notify/push-channel.js';
import { createOwnerAlertWebhook } from './notify/owner-alert-webhook.js';
import { createSmsChannel } from './notify/sms-channel.js';
import { createSmtpChannel } from './notify/smtp-channel.js';
import { createMongoAccountDirectory } from './persistence/mongo/mongo-account-directory.js';
import { createMongoAuditLog } from './persistence/mongo/mongo-audit-log.js';
import { createMongoApiKeyStore } from './persistence/mongo/mongo-api-key-store.js';
import {
  connectMongoPatiently,
  databaseAnswers,
  serverTraits,
  type ServerTraits,
} from './persistence/mongo/mongo-connection.js';
import { createMongoDeletionRepository } from './persistence/mongo/mongo-deletion-repository.js';
import type { WriteProtocol } from './persistence/mongo/request-writes.js';
import { createMongoErasedSubjects } from './persistence/mongo/mongo-erased-subjects.js';
import { createMongoErasureBreaker } from './persistence/mongo/mongo-erasure-breaker.js';
import { createMongoTaskLeases } from './persistence/mongo/mongo-task-leases.js';
import { createMongoRateLimiter } from './persistence/mongo/mongo-rate-limiter.js';
import {
  createMongoSubjectKeyStore,
  migrateKeyVault,
} from './persistence/mongo/mongo-subject-key-store.js';
import { migrate } from './persistence/mongo/migrations.js';
import { scrubAfterDestroy } from './persistence/mongo/scrubbed-key-store.js';
import { createGrpcParticipants } from './participants/grpc-participants.js';
import { createLogger } from './telemetry/logger.js';
import { traceDeletionService } from './telemetry/traced-service.js';
import {
  deletionMetrics,
  meteredRequests,
  observeOpenRequests,
} from './telemetry/deletion-metrics.js';
import {
  annotateSpan,
  currentTrace,
  spanEvent,
  withLinkedSpan,
  withSpan,
} from './telemetry/with-span.js';
import { createGrpcServer, type GrpcServer } from './transports/grpc/grpc-server.js';
import { grpcServerCredentials } from './transports/grpc/server-credentials.js';
import { createHttpServer, type HttpServer } from './transports/http/http-server.js';
import { createConsoleRoutes, type ConsoleOptions } from './transports/http/console-routes.js';
import { createConsoleSessionSeal } from './crypto/console-sessions.js';
import { createMongoConsoleSessions } from './persistence/mongo/mongo-console-sessions.js';
import { createTrpcHandler } from './transports/trpc/trpc-handler.js';
import { housekeeping, type HousekeepingRun } from './worker/housekeeping.js';
import { startPeriodicTask, type PeriodicTask } from './worker/periodic-task.js';
import { startWorkerLoop, type WorkerLoop } from './worker/worker-loop.js';

/** Parts a test may replace. */
export interface Overrides {
  readonly clock?: Clock;
  readonly notifier?: Notifier;
  readonly logger?: Logger;
  /** Where calls leave what they finish after answering (tests hold it until a worker pass). */
  readonly afterwards?: Afterwards;
  /**
   * Takes what was deleted from a database (by name) out of the server's
   * files: the embedded database's scrub (main.ts passes it), run after each
   * destruction of subject keys. Absent: nothing more than the delete.
   */
  readonly residue?: ((database: string) => Promise<void>) | undefined;
  /** What only the development start brings (`src/dev`, which production never imports). */
  readonly development?: DevelopmentKit | undefined;
}

/** The dev mailbox in the service's database: every notice goes to it with NOTIFIER=dev-mailbox. */
export interface DevMailbox {
  readonly channel: Channel;
  /** The newest messages, to one address and about one request (`deletionRequests/{id}`) when given. */
  list(filter: {
    readonly to?: string | undefined;
    readonly deletionRequest?: string | undefined;
  }): Promise<readonly object[]>;
  /** Deletes the messages sent before `before`; how many. */
  expire(before: Date): Promise<number>;
}

/** The development pieces a replica can be given: the dev mailbox and the demo data. */
export interface DevelopmentKit {
  mailbox(connection: Connection): DevMailbox;
  /** Seeds the demo accounts, sessions and API key (SEED_DEMO). */
  seed(
    connection: Connection,
    names: { readonly accounts: string; readonly sessions: string; readonly apiTokens: string },
    how: { readonly hashKey: (key: string) => string; readonly cipher: SubjectCipher },
  ): Promise<void>;
}

/** The dev mailbox when the configuration asks for it; a ConfigError when this start has none. */
const devMailboxOf = (
  config: Config,
  connection: Connection,
  development: DevelopmentKit | undefined,
): DevMailbox | undefined => {
  if (config.NOTIFIER !== 'dev-mailbox') return undefined;
  if (development === undefined)
    throw new ConfigError(
      'invalid configuration:\n  NOTIFIER: dev-mailbox needs the development start (npm start); set NOTIFIER=smtp and SMTP_URL',
    );
  return development.mailbox(connection);
};

/** The wired service of one replica. */
export interface App {
  readonly service: DeletionService;
  readonly deps: DeletionDeps;
  readonly connection: Connection;
  readonly grpc: GrpcServer;
  readonly http: HttpServer;
  readonly logger: Logger;
  /** The public key (SPKI PEM) that verifies this replica's erasure reports. */
  readonly reportPublicKey: string;
  /** The audit log and the keys that verify it. */
  readonly audit: DeletionDeps['audit'];
  /** The subjects' data keys (in the key vault database) and the cipher of their personal data. */
  readonly subjectData: { readonly keys: SubjectKeyStore; readonly cipher: SubjectCipher };
  /** Starts listening and the worker; resolves to the bound ports. */
  start(): Promise<{ grpcPort: number; httpPort: number }>;
  /** Settles once every destroyed key so far is scrubbed from the database's files (when a scrub is given). */
  residueScrubbed(): Promise<void>;
  /** Runs one worker pass now. */
  runWorkerPass(): ReturnType<typeof runWorkerPass>;
  /** One run of the slow housekeeping (deadline warnings, retention sweep, mailbox expiry). */
  runHousekeeping(): Promise<HousekeepingRun>;
  /** Shuts down within `graceMs` (default: `SHUTDOWN_GRACE_SECONDS`). */
  close(graceMs?: number): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

/** Unwrapped subject keys one replica keeps at most (32 bytes each). */
const SUBJECT_KEY_CACHE_ENTRIES = 10_000;

const collectionNames = (config: Config) => ({
  accounts: config.ACCOUNTS_COLLECTION,
  sessions: config.SESSIONS_COLLECTION,
  apiTokens: config.API_TOKENS_COLLECTION,
});

/** The budgets of the rate limits, from configuration. */
export const rateBudgets = (config: Config) => {
  const principalMs = config.RATE_LIMIT_PRINCIPAL_WINDOW_SECONDS * 1000;
  const subjectMs = config.RATE_LIMIT_SUBJECT_WINDOW_SECONDS * 1000;
  return {
    mutation: { points: config.RATE_LIMIT_MUTATIONS, windowMs: principalMs },
    read: { points: config.RATE_LIMIT_READS, windowMs: principalMs },
    participant: { points: config.RATE_LIMIT_OUTCOME_REPORTS, windowMs: principalMs },
    codeSend: { points: config.RATE_LIMIT_CODE_SENDS, windowMs: subjectMs },
    confirmAttempt: { points: config.RATE_LIMIT_CONFIRM_ATTEMPTS, windowMs: subjectMs },
  };
};

/** The rules the use cases follow, from configuration; `random` is the back-offs' jitter. */
export const deletionPolicyOf = (config: Config, random: () => number): DeletionPolicy => ({
  gracePeriodMs: config.GRACE_PERIOD_SECONDS * 1000,
  codeTtlMs: config.OTP_TTL_SECONDS * 1000,
  maxConfirmAttempts: config.OTP_MAX_ATTEMPTS,
  risk: {
    privilegedRoles: config.RISK_PRIVILEGED_ROLES,
    alwaysRequireApproval: config.RISK_ALWAYS_REQUIRE_APPROVAL,
  },
  stepUp: { allowed: config.STEP_UP_ALLOWED, maxAgeMs: config.STEP_UP_MAX_AGE_SECONDS * 1000 },
  defaultJurisdiction: config.DEFAULT_JURISDICTION,
  legalClocks: config.LEGAL_CLOCKS,
  leaseMs: config.LEASE_SECONDS * 1000,
  retry: { baseMs: config.RETRY_BASE_MS, capMs: config.RETRY_CAP_MS, random },
  fanOutConcurrency: config.FANOUT_CONCURRENCY,
  workerConcurrency: config.WORKER_CONCURRENCY ?? DEFAULT_WORKER_CONCURRENCY,
  localErasure: config.LOCAL_ERASURE,
  watchPollMs: config.WATCH_POLL_MS,
  maxWatches: config.WATCH_MAX,
  maxWatchesPerCaller: config.WATCH_MAX_PER_CALLER,
  breaker: {
    windowMs: config.BREAKER_WINDOW_SECONDS * 1000,
    limit: config.BREAKER_LIMIT,
    requesterLimit: config.BREAKER_REQUESTER_LIMIT,
  },
  retentionMs: config.RECORD_RETENTION_DAYS * 86_400_000,
  noticeRetry: {
    baseMs: config.RETRY_BASE_MS,
    capMs: config.NOTICE_RETRY_CAP_SECONDS * 1000,
    random,
    giveUpMs: config.NOTICE_GIVE_UP_HOURS * 3_600_000,
  },
  ownerAlerts: {
    baseMs: config.RETRY_BASE_MS,
    capMs: config.NOTICE_RETRY_CAP_SECONDS * 1000,
    random,
    maxAttempts: config.OWNER_ALERT_ATTEMPTS,
  },
});

/**
 * The notifier over every configured channel: e-mail (SMTP, or the dev
 * mailbox, which then takes every notice), SMS and push when configured.
 */
const makeNotifier = (
  config: Config,
  devMailbox: DevMailbox | undefined,
): Notifier & { close?: () => void } => {
  if (devMailbox !== undefined) return createNotifier({ email: devMailbox.channel });
  if (config.SMTP_URL === undefined)
    throw new ConfigError('invalid configuration:\n  SMTP_URL: required when NOTIFIER=smtp');
  const email = createSmtpChannel({ url: config.SMTP_URL, from: config.SMTP_FROM });
  const http = { attempts: config.NOTICE_ATTEMPTS };
  const sms =
    config.SMS_API_URL !== undefined &&
    config.SMS_ACCOUNT !== undefined &&
    config.SMS_TOKEN !== undefined &&
    config.SMS_FROM !== undefined
      ? createSmsChannel({
          ...http,
          url: config.SMS_API_URL,
          account: config.SMS_ACCOUNT,
          token: config.SMS_TOKEN,
          from: config.SMS_FROM,
        })
      : undefined;
  const push =
    config.PUSH_WEBHOOK_URL !== undefined && config.PUSH_WEBHOOK_SECRET !== undefined
      ? createPushChannel({
          ...http,
          url: config.PUSH_WEBHOOK_URL,
          secret: config.PUSH_WEBHOOK_SECRET,
        })
      : undefined;
  return {
    ...createNotifier({
      email,
      ...(sms !== undefined && { sms }),
      ...(push !== undefined && { push }),
    }),
    close: () => email.close(),
  };
};

/**
 * Measured end to end on FerretDB over PostgreSQL, 1 replica, 2 cores: 9.7
 * deletions/s at 1, 20.4 at 8, 22.6 at 16, 24.5 at 32 (the audit log's and
 * the claims' round trips share more as more run at once). 16 is the knee:
 * most of the throughput, half the calls in flight to linked services of 32.
 */
const DEFAULT_WORKER_CONCURRENCY = 16;

/** The write protocol asked for, or the one the server needs. */
const writeProtocol = (config: Config, traits: ServerTraits): WriteProtocol => {
  if (config.WRITE_PROTOCOL !== 'auto') return config.WRITE_PROTOCOL;
  return traits.compareAndSet ? 'compare-and-set' : 'version-claims';
};

const makeDeps = (
  config: Config,
  connection: Connection,
  adapters: {
    readonly overrides: Overrides;
    readonly devMailbox: DevMailbox | undefined;
    readonly participants: Participants;
    readonly signer: ReportSigner;
    readonly traits: ServerTraits;
    readonly audit: DeletionDeps['audit'];
    readonly schedule: DeletionDeps['schedule'];
    readonly afterwards: DeletionDeps['afterwards'];
    readonly pseudonymOf: (subjectId: SubjectId) => string;
    readonly logger: Logger;
    readonly subjectData: App['subjectData'];
  },
): DeletionDeps => ({
  requests: auditTransitions(
    meteredRequests(
      createMongoDeletionRepository(connection, adapters.subjectData.cipher, {
        protocol: writeProtocol(config, adapters.traits),
      }),
    ),
    adapters.audit.outbox,
  ),
  accounts: createMongoAccountDirectory(
    connection,
    collectionNames(config),
    adapters.subjectData.cipher,
  ),
  notifier: adapters.overrides.notifier ?? makeNotifier(config, adapters.devMailbox),
  ownerAlerts: createOwnerAlertWebhook({
    keyMaterial: config.AUDIT_KEY ?? '',
    timeoutMs: config.OWNER_ALERT_TIMEOUT_MS,
    logger: adapters.logger,
  }),
  codes: createHmacOneTimeCodes({ key: config.OTP_SECRET ?? '', digits: config.OTP_DIGITS }),
  clock: adapters.overrides.clock ?? systemClock,
  schedule: adapters.schedule,
  afterwards: adapters.afterwards,
  ids: createRandomIds(),
  trace: {
    current: currentTrace,
    inSpan: withSpan,
    inLinkedSpan: withLinkedSpan,
    event: spanEvent,
    annotate: annotateSpan,
  },
  metrics: deletionMetrics,
  participants: adapters.participants,
  signer: adapters.signer,
  reportLinks: createReportLinks({
    template: config.NOTICE_REPORT_URL ?? null,
    keyMaterial: config.AUDIT_KEY ?? '',
    ttlMs: config.REPORT_LINK_DAYS * 86_400_000,
  }),
  audit: adapters.audit,
  pseudonymOf: adapters.pseudonymOf,
  breaker: createMongoErasureBreaker(connection),
  ledger: createMongoErasedSubjects(connection),
  limiter: createMongoRateLimiter(connection, {
    budgets: rateBudgets(config),
    digest: createRateLimitKeys(config.OTP_SECRET ?? ''),
    clock: adapters.overrides.clock ?? systemClock,
    protocol: writeProtocol(config, adapters.traits),
  }),
  shredding: { keys: adapters.subjectData.keys },
  policy: deletionPolicyOf(config, Math.random),
});

const makeAuthenticator = (config: Config, connection: Connection) =>
  createAuthenticator({
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    jwksUrl: config.JWT_JWKS_URL,
    publicKeys: config.JWT_PUBLIC_KEYS,
    hs256Secret: config.JWT_HS256_SECRET,
    apiKeys: createMongoApiKeyStore(connection),
    failures: {
      failures: config.AUTH_FAILURE_LIMIT,
      windowMs: config.AUTH_FAILURE_WINDOW_SECONDS * 1000,
    },
  });

/** Over mutual TLS, gRPC calls also need an allow-listed client certificate. */
const grpcAuthenticator = (config: Config, authenticate: Authenticator): Authenticator =>
  config.GRPC_CLIENT_PRINCIPALS === undefined
    ? authenticate
    : gateByClientCertificate(config.GRPC_CLIENT_PRINCIPALS, authenticate);

/** The key store, scrubbed from the database's files after each destruction when a scrub is given. */
const scrubbedKeys = (
  keys: SubjectKeyStore,
  options: {
    readonly residue: Overrides['residue'];
    readonly database: string;
    readonly logger: Logger;
  },
): SubjectKeyStore & { scrubbed(): Promise<void> } => {
  const { residue, database, logger } = options;
  if (residue === undefined) return { ...keys, scrubbed: () => Promise.resolve() };
  return scrubAfterDestroy(
    keys,
    () => residue(database),
    ({ tookMs, windowMs, error }) => {
      if (error === undefined)
        logger.info({ tookMs, windowMs }, 'destroyed keys scrubbed from the database files');
      else
        logger.warn(
          { tookMs, windowMs, cause: (error as Error).message },
          'destroyed keys not scrubbed from the database files yet; trying again',
        );
    },
  );
};

/** How long a readiness ping may take before the database counts as not answering. */
const READY_TIMEOUT_MS = 1000;

/**
 * Pings the database every `intervalMs` and tells gRPC health, so it says
 * NOT_SERVING while `/readyz` says 503; logs each change.
 */
const watchReadiness = (
  connection: Connection,
  grpc: GrpcServer,
  options: { readonly intervalMs: number; readonly logger: Logger },
): PeriodicTask => {
  let ready = true;
  return startPeriodicTask(
    'readiness',
    async () => {
      const answers = await databaseAnswers(connection, READY_TIMEOUT_MS);
      if (answers !== ready) {
        if (answers) options.logger.info('the database answers again: gRPC health SERVING');
        else options.logger.warn('the database does not answer: gRPC health NOT_SERVING');
      }
      ready = answers;
      grpc.setReady(answers);
    },
    options,
  );
};

/** The built console of this checkout (npm run build writes it). */
const BUILT_CONSOLE = fileURLToPath(new URL('../clients/console/dist', import.meta.url));

/** The console's sessions and pages; its folder is null when the console was not built. */
const consoleOptionsOf = async (
  config: Config,
  deps: Pick<ConsoleOptions, 'authenticate' | 'now'> & { readonly connection: Connection },
): Promise<ConsoleOptions> => {
  const { connection, ...served } = deps;
  const folder = config.CONSOLE_DIR ?? BUILT_CONSOLE;
  const built = await access(`${folder}/index.html`).then(
    () => true,
    () => false,
  );
  return {
    ...served,
    assetsDir: built ? folder : null,
    sessions: createMongoConsoleSessions(connection, {
      seal: createConsoleSessionSeal(config.AUDIT_KEY ?? ''),
      ttlMs: config.CONSOLE_SESSION_HOURS * 3_600_000,
    }),
    traceUrlTemplate: config.CONSOLE_TRACE_URL ?? null,
    secureAlways: config.DELETION_ENV === 'production',
  };
};

/** tRPC, health and readiness; the dev mailbox when there is one. */
const makeHttpServer = (
  connection: Connection,
  served: {
    readonly reportKey: string;
    readonly reportKeys: ReportKeySet;
    readonly trpc: RequestListener;
    readonly console: ConsoleOptions | undefined;
    readonly reportByLink: ReturnType<typeof getReportByLink>;
    /** Aborts when the replica starts shutting down: not ready from then on. */
    readonly closing: AbortSignal;
    readonly devMailbox: DevMailbox | undefined;
  },
): HttpServer => {
  const { devMailbox } = served;
  return createHttpServer({
    ready: async () =>
      !served.closing.aborted && (await databaseAnswers(connection, READY_TIMEOUT_MS)),
    reportKey: served.reportKey,
    reportKeys: served.reportKeys,
    trpc: served.trpc,
    ...(served.console !== undefined && { console: createConsoleRoutes(served.console) }),
    reportByLink: served.reportByLink,
    mailbox: devMailbox && ((filter) => devMailbox.list(filter)),
  });
};

/**
 * Wires one replica: database, adapters, use cases (traced), gRPC and HTTP
 * servers, and the worker. Connects, migrates indexes and (when asked) seeds
 * demo data; listens only on `start()`.
 */
export const composeApp = async (
  config: Config,
  mongoUri: string,
  overrides: Overrides = {},
): Promise<App> => {
  const logger = overrides.logger ?? createLogger({ level: config.LOG_LEVEL });
  const grpcCredentials = grpcServerCredentials(config);
  const connection = await connectMongoPatiently(
    { uri: mongoUri, dbName: config.MONGODB_DB },
    {
      waitMs: config.DATABASE_STARTUP_WAIT_SECONDS * 1000,
      onFailure: ({ attempt, reason, retryInMs }) =>
        logger.warn(
          { attempt, reason, retryInMs },
          retryInMs === null
            ? 'the database does not answer; giving up'
            : 'the database does not answer yet; trying again',
        ),
    },
  );
  await migrate(connection, collectionNames(config));
  const pseudonymOf = createSubjectPseudonyms(config.PSEUDONYM_SECRET ?? '');
  const participants = createGrpcParticipants(
    config.PARTICIPANTS,
    pseudonymOf,
    overrides.clock ?? systemClock,
  );
  const signer = createEd25519ReportSigner(config.REPORT_SIGNING_KEY);
  const traits = await serverTraits(connection);
  const seal = createAuditSeal(config.AUDIT_KEY ?? '');
  const log = createMongoAuditLog(connection, seal);
  const outbox = createAuditOutbox({
    log,
    pseudonymOf,
    onFailure: (error, request) => {
      logger.warn(
        { deletionRequest: request.id, code: DomainError.from(error).code },
        'audit append failed; the changes stay owed on the request and the worker appends them',
      );
    },
  });
  const audit = { log, seal, outbox };
  let worker: WorkerLoop | undefined;
  const schedule = { dueAt: (at: Date) => worker?.wakeAt(at) };
  const afterwards =
    overrides.afterwards ??
    createAfterwards((error) => {
      logger.warn(
        { code: DomainError.from(error).code },
        'work after a call failed; the request still owes it and the worker does it',
      );
    });
  // The key vault is a database of its own on the same server: see mongo-subject-key-store.ts.
  const vault = connection.useDb(config.KEY_VAULT_DB ?? `${config.MONGODB_DB}_keys`, {
    useCache: true,
  });
  await migrateKeyVault(vault);
  const keys = scrubbedKeys(
    cacheSubjectKeys(
      createMongoSubjectKeyStore(vault, createLocalKeyEncryptionKey(config.DATA_KEK ?? '')),
      { ttlMs: config.SUBJECT_KEY_CACHE_SECONDS * 1000, maxEntries: SUBJECT_KEY_CACHE_ENTRIES },
    ),
    { residue: overrides.residue, database: vault.name, logger },
  );
  const subjectData = { keys, cipher: createSubjectCipher(keys) };
  const devMailbox = devMailboxOf(config, connection, overrides.development);
  if (config.SEED_DEMO) {
    if (overrides.development === undefined)
      throw new ConfigError(
        'invalid configuration:\n  SEED_DEMO: demo data needs the development start (npm start)',
      );
    await overrides.development.seed(connection, collectionNames(config), {
      hashKey: hashApiKey,
      cipher: subjectData.cipher,
    });
  }
  const deps = makeDeps(config, connection, {
    overrides,
    devMailbox,
    participants,
    signer,
    traits,
    audit,
    schedule,
    afterwards,
    pseudonymOf,
    logger,
    subjectData,
  });
  const service = traceDeletionService(
    rateLimitDeletionService(
      auditPrivilegedCalls(createDeletionService(deps), deps, {
        onFailure: (error, operation) => {
          logger.error({ operation, code: DomainError.from(error).code }, 'audit append failed');
        },
      }),
      {
        limiter: deps.limiter,
        onDown: (limit, error) => {
          logger.warn(
            { limit, code: DomainError.from(error).code },
            'rate limit unchecked (store down); read allowed',
          );
        },
      },
    ),
  );
  const authenticate = makeAuthenticator(config, connection);
  const grpc = createGrpcServer(service, {
    authenticate: grpcAuthenticator(config, authenticate),
    logger,
    reflection: config.GRPC_REFLECTION,
    credentials: grpcCredentials,
  });
  const closing = new AbortController();
  const consoleOptions = config.CONSOLE_ENABLED
    ? await consoleOptionsOf(config, { authenticate, now: () => deps.clock.now(), connection })
    : undefined;
  const http = makeHttpServer(connection, {
    console: consoleOptions,
    devMailbox,
    reportKey: signer.publicKeyPem,
    reportKeys: reportKeySet(signer, {
      since: config.REPORT_SIGNING_KEY_SINCE,
      previous: config.REPORT_PREVIOUS_KEYS,
    }),
    trpc: createTrpcHandler(service, {
      authenticate,
      ...(consoleOptions !== undefined && { console: consoleOptions }),
      logger,
      router: { watchStreamMs: config.WATCH_STREAM_SECONDS * 1000, closing: closing.signal },
    }),
    reportByLink: getReportByLink(deps),
    closing: closing.signal,
  });
  const owner = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  // A purge waits half the grace for the linked services it called, then records and releases.
  const pass = (signal?: AbortSignal) =>
    runWorkerPass(deps, owner, signal && { signal, drainMs: graceMs / 2 });
  let stopGauges: (() => void) | undefined;
  const tasks: PeriodicTask[] = [];
  const warningMs = config.DEADLINE_WARNING_DAYS * 24 * 3600 * 1000;
  const leases = createMongoTaskLeases(connection);
  const housekeepingMs = config.HOUSEKEEPING_SECONDS * 1000;
  const keepHouse = housekeeping(deps, {
    // Held across runs by one worker replica; another takes over two intervals after it stops.
    lease: () =>
      leases.acquire('housekeeping', { owner, ttlMs: 2 * housekeepingMs, now: deps.clock.now() }),
    logger,
    warningMs,
    expireMailbox: devMailbox && ((before: Date) => devMailbox.expire(before)),
    mailboxRetentionMs: config.DEV_MAILBOX_RETENTION_HOURS * 3_600_000,
  });
  return {
    service,
    deps,
    connection,
    grpc,
    http,
    logger,
    reportPublicKey: signer.publicKeyPem,
    audit,
    subjectData,
    runWorkerPass: () => pass(),
    residueScrubbed: () => keys.scrubbed(),
    runHousekeeping: keepHouse,
    start: async () => {
      const grpcPort = await grpc.listen(config.GRPC_HOST, config.GRPC_PORT);
      const httpPort = await http.listen(config.HTTP_HOST, config.HTTP_PORT);
      if (config.WORKER_ENABLED) {
        worker = startWorkerLoop(pass, { intervalMs: config.WORKER_INTERVAL_MS, logger });
        // Worker replicas only; of those, the one holding the lease does the work.
        tasks.push(
          startPeriodicTask('housekeeping', keepHouse, {
            intervalMs: housekeepingMs,
            logger,
          }),
        );
      }
      tasks.push(
        watchReadiness(connection, grpc, { intervalMs: config.READINESS_CHECK_MS, logger }),
      );
      // Every replica: a soft delete's account effects must not wait for a worker replica.
      tasks.push(
        startPeriodicTask(
          'settle_stragglers',
          async () => {
            const { failures } = await settleStragglers(deps);
            if (failures.length > 0)
              logger.warn({ failures }, 'account effects not settled yet; tried again later');
          },
          {
            intervalMs: config.SETTLE_SWEEP_SECONDS * 1000,
            logger,
          },
        ),
      );
      tasks.push(
        startPeriodicTask('rate_limit_sweep', () => deps.limiter.sweep(), {
          intervalMs: config.RATE_LIMIT_SWEEP_MS,
          logger,
        }),
      );
      stopGauges = observeOpenRequests(
        () => deps.requests.countOpen(new Date(deps.clock.now().getTime() + warningMs)),
        () => deps.clock.now(),
      );
      return { grpcPort, httpPort };
    },
    /**
     * Shuts down within `graceMs` (default `SHUTDOWN_GRACE_SECONDS`), whatever
     * hangs: health and readiness say NOT_SERVING, watches end telling their
     * clients to reconnect, the worker starts nothing new and its purges
     * record and release their leases, calls in flight on both transports
     * finish, then the audit outbox is flushed and the database let go. A
     * step still running at the deadline is left behind (and logged).
     */
    close: async (closeGraceMs = graceMs) => {
      const deadline = Date.now() + closeGraceMs;
      const left = () => Math.max(0, deadline - Date.now());
      const step = (name: string, work: Promise<unknown>) =>
        within(
          work.then(
            () => true,
            () => true,
          ),
          left(),
          false,
        ).then((finished) => {
          if (!finished) logger.warn({ step: name }, 'shutdown step still running at its deadline');
        });
      closing.abort();
      await step(
        'drain',
        Promise.all([
          worker?.stop(),
          ...tasks.splice(0).map((task) => task.stop()),
          grpc.close(left()),
          http.close(left()),
        ]),
      );
      stopGauges?.();
      await step('afterwards', afterwards.settled());
      participants.close();
      await step('audit outbox', outbox.flush());
      await step('database', connection.close(left() === 0));
    },
  };
};
