import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { inject } from 'vitest';
import { composeApp, type App } from '../../src/compose.js';
import type { Notifier } from '../../src/app/ports/notifier.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import type { DeletionRequest } from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { createTestClient, type TestClient } from './grpc-test-client.js';
import { castFor, newSubjectId, type Cast } from './principals.js';
import { heldAfterwards } from './held-afterwards.js';
import { sealAccountContact } from '../../src/persistence/mongo/mongo-account-directory.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from './tokens.js';
import { developmentKit } from '../../src/dev/development-kit.js';

/** A clock tests move forward by hand. */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

export const createTestClock = (): TestClock => {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => (offset += ms) };
};

/** An account to seed in the directory. */
export interface SeedAccount {
  readonly id: string;
  readonly roles?: readonly string[];
  readonly flagged?: boolean;
  readonly jurisdiction?: 'GDPR' | 'CCPA';
  readonly sessions?: number;
  readonly tokens?: number;
  /** Contact fields; by default an e-mail address (`emailOf`), English, no phone or push. */
  readonly email?: string | null;
  readonly phone?: string;
  readonly pushToken?: string;
  readonly notifyBy?: 'email' | 'sms' | 'push';
  readonly locale?: string;
}

/** A subject with an account, its tokens, and one deletion request. */
export interface SubjectRequest {
  readonly subjectId: string;
  readonly cast: Cast;
  /** `deletionRequests/{id}` and the bare id. */
  readonly name: string;
  readonly id: DeletionRequestId;
  readonly created: DeletionRequest;
  readonly code: string;
}

export interface TestApp extends AsyncDisposable {
  readonly app: App;
  readonly client: TestClient;
  readonly smtp: SmtpSink;
  readonly clock: TestClock;
  readonly dbName: string;
  readonly ports: { readonly grpc: number; readonly http: number };
  /** The tRPC endpoint, `http://127.0.0.1:<port>/trpc`. */
  readonly trpcUrl: string;
  seedAccount(account: SeedAccount): Promise<void>;
  emailOf(subjectId: string): string;
  count(
    collection: 'accounts' | 'sessions' | 'api_tokens' | 'deletion_requests' | 'dev_mailbox',
    filter?: object,
  ): Promise<number>;
  accountStatus(subjectId: string): Promise<string | undefined>;
  /** Seeds an account and asks for its deletion as the subject; the code is read from SMTP. */
  requested(account?: Partial<SeedAccount> & { prefix?: string }): Promise<SubjectRequest>;
  /** As `requested`, then confirmed with the code: SCHEDULED (or awaiting approval). */
  scheduled(
    account?: Partial<SeedAccount> & { prefix?: string },
  ): Promise<SubjectRequest & { confirmed: DeletionRequest }>;
}

/** What every service a test starts runs with: test mode, free ports, the test issuer's tokens. */
export const TEST_SERVICE_ENV = {
  DELETION_ENV: 'test',
  GRPC_PORT: '0',
  HTTP_PORT: '0',
  JWT_ISSUER: TEST_ISSUER,
  JWT_AUDIENCE: TEST_AUDIENCE,
  JWT_HS256_SECRET: TEST_SECRET,
  OTP_SECRET: 'test-only-otp-secret-0123456789abcdef',
} as const;

/**
 * The whole service on a fresh database of the shared test server, with a real
 * SMTP sink and gRPC on a free port. Background work runs only when the test
 * calls `app.runWorkerPass()`, so tests stay deterministic: what calls leave
 * to finish after answering (the notices they claimed) is held until then.
 */
export const startTestApp = async (
  env: Record<string, string> = {},
  options: {
    readonly logger?: Logger;
    /** Start on this database (another app's, kept): a restart. */
    readonly dbName?: string;
    /** Leave the database when disposed, for a restart on it. */
    readonly keepDatabase?: boolean;
    /** Instead of SMTP (and SMS, push): a notifier of the test's own. */
    readonly notifier?: Notifier;
    /** Let what calls finish after answering run at once, as in production (not held for a pass). */
    readonly immediateAfterwards?: boolean;
    /** The database's address, when not the suite's (e.g. through a proxy a test can cut). */
    readonly mongoUri?: string;
    /** What takes deleted keys out of the database's files (an embedded database's scrub). */
    readonly residue?: (database: string) => Promise<void>;
  } = {},
): Promise<TestApp> => {
  const smtp = await startSmtpSink();
  const clock = createTestClock();
  const dbName = options.dbName ?? `t_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  const config = loadConfig({
    ...TEST_SERVICE_ENV,
    MONGODB_DB: dbName,
    NOTIFIER: 'smtp',
    SMTP_URL: smtp.url,
    WORKER_ENABLED: 'false',
    // Tests settle stragglers by a worker pass when they want it; the settling test sets its own.
    SETTLE_SWEEP_SECONDS: '3600',
    WATCH_POLL_MS: '50',
    GRACE_PERIOD_SECONDS: '0',
    // Tests act as one principal many times a second; the rate-limit tests set their own budgets.
    RATE_LIMIT_MUTATIONS: '1000000',
    RATE_LIMIT_READS: '1000000',
    RATE_LIMIT_OUTCOME_REPORTS: '1000000',
    RATE_LIMIT_CODE_SENDS: '100',
    // Tests present refused credentials on purpose; the throttle's own test sets its budget.
    AUTH_FAILURE_LIMIT: '1000000',
    ...env,
  });
  const afterwards = heldAfterwards();
  const app = await composeApp(config, options.mongoUri ?? inject('mongoUri'), {
    clock,
    development: developmentKit,
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.immediateAfterwards !== true && { afterwards }),
    ...(options.notifier !== undefined && { notifier: options.notifier }),
    ...(options.residue !== undefined && { residue: options.residue }),
  });
  const { grpcPort, httpPort } = await app.start();
  // What calls left to finish after answering (the notices they claimed) runs first in a pass.
  const pass = app.runWorkerPass.bind(app);
  app.runWorkerPass = async () => {
    await app.deps.afterwards.settled();
    return pass();
  };
  const client = createTestClient(`127.0.0.1:${grpcPort}`);
  const db = app.connection;
  const emailOf = (subjectId: string) => `${subjectId}@mail.test`;
  const seedAccount = async (account: SeedAccount): Promise<void> => {
    // As the directory stores it: the contact sealed under the subject's key.
    const sealed = await sealAccountContact(app.subjectData.cipher, {
      _id: account.id,
      ...(account.email !== null && { email: account.email ?? emailOf(account.id) }),
      ...(account.phone !== undefined && { phone: account.phone }),
      ...(account.pushToken !== undefined && { pushToken: account.pushToken }),
    });
    await db.collection('accounts').insertOne({
      ...sealed,
      _id: account.id as never,
      ...(account.notifyBy !== undefined && { notifyBy: account.notifyBy }),
      roles: [...(account.roles ?? ['member'])],
      flagged: account.flagged ?? false,
      jurisdiction: account.jurisdiction ?? 'GDPR',
      locale: account.locale ?? 'en',
      status: 'ACTIVE',
    });
    const sessions = Array.from({ length: account.sessions ?? 2 }, (_, i) => ({
      subjectId: account.id,
      n: i,
    }));
    const tokens = Array.from({ length: account.tokens ?? 1 }, (_, i) => ({
      subjectId: account.id,
      n: i,
    }));
    if (sessions.length) await db.collection('sessions').insertMany(sessions);
    if (tokens.length) await db.collection('api_tokens').insertMany(tokens);
  };
  const requested = async (
    account: Partial<SeedAccount> & { prefix?: string } = {},
  ): Promise<SubjectRequest> => {
    const subjectId = account.id ?? newSubjectId(account.prefix);
    await seedAccount({ ...account, id: subjectId });
    const cast = await castFor(subjectId);
    const since = smtp.messages.length;
    const created = await client.requestDeletion({ subjectId }, cast.self);
    const code = await smtp.waitForCode(emailOf(subjectId), since);
    return {
      subjectId,
      cast,
      name: created.name,
      id: created.name.split('/')[1] as DeletionRequestId,
      created,
      code,
    };
  };
  return {
    app,
    client,
    requested,
    scheduled: async (account) => {
      const request = await requested(account);
      const confirmed = await client.confirmDeletion(
        { name: request.name, code: request.code },
        request.cast.self,
      );
      return { ...request, confirmed };
    },
    smtp,
    clock,
    dbName,
    ports: { grpc: grpcPort, http: httpPort },
    trpcUrl: `http://127.0.0.1:${String(httpPort)}/trpc`,
    emailOf,
    seedAccount,
    count: (collection, filter = {}) => db.collection(collection).countDocuments(filter),
    accountStatus: async (subjectId) =>
      (await db.collection('accounts').findOne({ _id: subjectId as never }))?.status as
        string | undefined,
    [Symbol.asyncDispose]: async () => {
      afterwards.drop();
      client.close();
      if (options.keepDatabase !== true) {
        await db.dropDatabase().catch(() => undefined);
        await db
          .useDb(`${dbName}_keys`)
          .dropDatabase()
          .catch(() => undefined);
      }
      await app.close();
      await smtp[Symbol.asyncDispose]();
    },
  };
};
