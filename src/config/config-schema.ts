import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { scopes } from '../domain/principal.js';
import { jurisdictions, parseLegalClocks } from '../domain/legal-deadline.js';

const port = z.coerce.number().int().min(0).max(65_535);
const seconds = z.coerce.number().int().min(0);
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);
const flag = z.stringbool();

/** PEM files for a linked service's TLS; certFile + keyFile make it mutual TLS. */
const tlsFiles = z
  .strictObject({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** The name checked in the service's certificate (for an address that is an IP). */
    serverName: z.string().min(1).optional(),
  })
  .refine((files) => (files.certFile === undefined) === (files.keyFile === undefined), {
    error: 'certFile and keyFile go together: a client certificate needs its private key',
  });

/** false: plaintext; true: TLS with the system's CAs; an object: TLS with these files. */
const tls = z
  .union([z.boolean(), tlsFiles])
  .default(false)
  .transform((value) => (value === false ? null : value === true ? {} : value));

const participant = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _'),
    address: z.string().min(1),
    tls,
    timeoutMs: z.number().int().min(10).max(600_000).default(5000),
    maxAttempts: z.number().int().min(1).max(100).default(8),
    phases: z
      .array(z.enum(['suspend', 'restore', 'erase']))
      .min(1)
      .default(['suspend', 'restore', 'erase']),
    after: z.array(z.string()).default([]),
    /** The principal id (token `sub`) the service reports outcomes as; default: its name. */
    identity: z.string().min(1).optional(),
    /** Which subject id the service is given: the real one, or its keyed pseudonym. */
    subjectId: z.enum(['real', 'pseudonym']).default('real'),
    /** The data categories the deletion covers at this service; empty: all it holds. */
    categories: z.array(z.string().min(1)).default([]),
    /** The team that owns the service, and where its alerts go (an HTTP webhook). */
    owner: z
      .strictObject({
        team: z.string().min(1).max(200),
        webhook: z.url({ protocol: /^https?$/ }).optional(),
      })
      .optional(),
    /** The legal basis the service cites when it keeps something (e.g. tax law, 10 years). */
    legalBasis: z.string().min(1).max(500).optional(),
  })
  .transform((registration) => ({
    ...registration,
    identity: registration.identity ?? registration.name,
  }));

/** A setting holding JSON, parsed (`what` names it in the error when it is not JSON). */
const json = (what: string) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
  });

/** A JSON array of linked services (never registered through an API: no SSRF by registration). */
const participants = json('a JSON array of linked services').pipe(z.array(participant));

/** One allow-listed client certificate identity and the service principal it stands for. */
const clientPrincipal = z.strictObject({
  /** A URI SAN (e.g. a SPIFFE id), a DNS SAN, or the CN of a certificate without either. */
  identity: z.string().min(1),
  /** The principal id calls authenticated by the certificate act as (like a token's `sub`). */
  principal: z.string().min(1).max(200),
  /** Scopes of certificate-only calls; a service acts for no subject of its own, so not deletion:self. */
  scopes: z.array(z.enum(scopes).exclude(['deletion:self'])).default([]),
});

/** A JSON array of allow-listed client certificate identities, each named once. */
const clientPrincipals = json('a JSON array of client principals')
  .pipe(z.array(clientPrincipal).min(1))
  .refine((entries) => new Set(entries.map((entry) => entry.identity)).size === entries.length, {
    error: 'an identity is listed twice',
  });

/** A public key that signed erasure reports before a rotation, and when it did. */
const previousReportKey = z.strictObject({
  /** SPKI PEM of the Ed25519 public key. */
  publicKey: z.string().refine(
    (pem) => {
      try {
        return createPublicKey(pem).asymmetricKeyType === 'ed25519';
      } catch {
        return false;
      }
    },
    { error: 'must be an Ed25519 public key (SPKI PEM)' },
  ),
  validFrom: z.iso.datetime({ offset: true }).optional(),
  /** When it stopped signing: a report it signed after that does not verify. */
  validUntil: z.iso.datetime({ offset: true }),
});

/**
 * Every setting of the service, read from the environment (variable name =
 * key). `DELETION_ENV` defaults to production, which refuses the
 * development-only settings, so a forgotten variable fails start-up instead of
 * running with a public secret; `npm start` sets development, where every other
 * key's default fits a laptop.
 */
export const configSchema = z.object({
  DELETION_ENV: z
    .enum(['development', 'test', 'production'])
    .default('production')
    .describe('Mode; production refuses dev-only settings'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  MONGODB_URI: z
    .string()
    .optional()
    .describe('MongoDB URI (required in production); unset under npm start: an embedded database'),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/)
    .default('account_deletion')
    .describe('Database name'),
  DATA_DIR: z.string().default('.data').describe('Folder for the embedded database of npm start'),
  GRPC_HOST: z.string().default('127.0.0.1').describe('gRPC listen address'),
  GRPC_PORT: port.default(50051).describe('gRPC port (0: any free port)'),
  HTTP_HOST: z
    .string()
    .default('127.0.0.1')
    .describe('HTTP listen address (tRPC under /trpc, health)'),
  HTTP_PORT: port.default(8080).describe('HTTP port (0: any free port)'),
  GRPC_REFLECTION: flag.default(true).describe('Serve gRPC server reflection'),
  GRPC_TLS_CERT_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('PEM certificate chain of the gRPC server; set with GRPC_TLS_KEY_FILE: TLS'),
  GRPC_TLS_KEY_FILE: z.string().min(1).optional().describe('PEM private key of the gRPC server'),
  GRPC_CLIENT_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'PEM CA(s) of client certificates; set: mutual TLS, every gRPC client must present a certificate they sign (needs GRPC_TLS_CERT_FILE and GRPC_CLIENT_PRINCIPALS)',
    ),
  GRPC_CLIENT_PRINCIPALS: clientPrincipals
    .optional()
    .describe(
      'Client certificate identities allowed to call over mutual TLS, JSON: [{"identity","principal","scopes"}]; identity: a URI SAN (spiffe://...), a DNS SAN, or the CN of a certificate without SANs; a call with a token acts as the token, one without as the principal with these scopes',
    ),
  JWT_ISSUER: z
    .string()
    .min(1)
    .default('https://auth.example.internal/')
    .describe('Expected JWT iss'),
  JWT_AUDIENCE: z.string().min(1).default('account-deletion').describe('Expected JWT aud'),
  JWT_JWKS_URL: z.url().optional().describe('JWKS URL of the identity provider'),
  JWT_PUBLIC_KEYS: z.string().optional().describe('Static public keys: a JWKS JSON document'),
  JWT_HS256_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe('Shared secret for HS256 tokens: local development and tests only'),
  OTP_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe('Key of the one-time-code HMAC (required in production)'),
  OTP_DIGITS: z.coerce
    .number()
    .int()
    .min(6)
    .max(10)
    .default(6)
    .describe('Digits of a one-time code'),
  OTP_TTL_SECONDS: seconds
    .min(60)
    .default(600)
    .describe('Validity of a code; an unconfirmed request expires with it'),
  OTP_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(5)
    .describe('Wrong codes allowed per request'),
  STEP_UP_ALLOWED: flag
    .default(true)
    .describe('Accept a fresh MFA step-up token instead of a code'),
  STEP_UP_MAX_AGE_SECONDS: seconds
    .default(300)
    .describe('How fresh auth_time must be for a step-up'),
  GRACE_PERIOD_SECONDS: seconds
    .default(30 * 86_400)
    .describe('Soft-delete grace period before the purge (0 allowed)'),
  RISK_PRIVILEGED_ROLES: list
    .default(['admin', 'owner'])
    .describe('Roles whose deletion needs approval'),
  RISK_ALWAYS_REQUIRE_APPROVAL: flag.default(false).describe('Every request needs approval'),
  DEFAULT_JURISDICTION: z
    .enum(jurisdictions)
    .default('GDPR')
    .describe('Jurisdiction when the account has none'),
  LEGAL_CLOCKS: z
    .string()
    .default('GDPR=1M+2M,CCPA=45D+45D')
    .transform((text, ctx) => {
      const clocks = parseLegalClocks(text);
      if (clocks === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be like GDPR=1M+2M,CCPA=45D+45D (deadline+extension, M months, D days)',
        });
        return z.NEVER;
      }
      return clocks;
    })
    .describe(
      "Each jurisdiction's deadline and its one extension, counted from receipt: GDPR=1M+2M,CCPA=45D+45D (M calendar months, D days)",
    ),
  NOTIFIER: z
    .enum(['smtp', 'dev-mailbox'])
    .default('dev-mailbox')
    .describe('smtp (with SMS and push when configured) or dev-mailbox (every notice to it)'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//)
    .optional()
    .describe('smtp://host:port of the mail server'),
  SMTP_FROM: z
    .string()
    .default('Account deletion <no-reply@example.internal>')
    .describe('Sender address'),
  SMS_API_URL: z
    .url()
    .optional()
    .describe(
      'Base URL of a Twilio-style SMS API (messages go to <url>/2010-04-01/Accounts/<account>/Messages.json); set it to send notices by SMS to subjects who prefer it',
    ),
  SMS_ACCOUNT: z.string().min(1).optional().describe('SMS provider account (with SMS_API_URL)'),
  SMS_TOKEN: z.string().min(1).optional().describe('SMS provider auth token (with SMS_API_URL)'),
  SMS_FROM: z.string().min(1).optional().describe('Sender number or name of SMS notices'),
  PUSH_WEBHOOK_URL: z
    .url()
    .optional()
    .describe(
      'HTTPS webhook of the push gateway; set it to send notices by push to subjects who prefer it',
    ),
  PUSH_WEBHOOK_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe('HMAC-SHA256 key that signs push webhook bodies (x-deletion-signature)'),
  NOTICE_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe('Tries of one SMS or push send before it is left to the next retry'),
  NOTICE_RETRY_CAP_SECONDS: seconds
    .min(1)
    .default(900)
    .describe(
      'Longest pause between tries of a notice to the subject whose channel is down (the back-off starts at RETRY_BASE_MS)',
    ),
  NOTICE_GIVE_UP_HOURS: z.coerce
    .number()
    .min(0.001)
    .default(72)
    .describe(
      'How long after it was owed a notice is still tried; then it is recorded undeliverable',
    ),
  OWNER_ALERT_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(8)
    .describe(
      "Deliveries of one alert to a linked service owner's webhook (back-off from RETRY_BASE_MS up to NOTICE_RETRY_CAP_SECONDS) before it is given up and logged",
    ),
  OWNER_ALERT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5000)
    .describe("Bound of one call to a linked service owner's webhook"),
  NOTICE_REPORT_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => url.includes('{request}'), { error: 'must contain {request}' })
    .optional()
    .describe(
      'Where a subject fetches their erasure report, linked from the completion notice: {request} is the request id, {token} an expiring access token (the service serves GET /erasure-reports/{request}?token={token} itself); default in development: that path on HTTP_HOST:HTTP_PORT; unset: the notice says to ask support',
    ),
  REPORT_LINK_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(366)
    .default(30)
    .describe('How long the report link of a completion notice works'),
  CONSOLE_ENABLED: flag
    .default(true)
    .describe('Serve the operations console under /console (its sessions and pages)'),
  CONSOLE_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Folder of the built console (index.html, assets/); default: clients/console/dist of this checkout, built by npm run build',
    ),
  CONSOLE_SESSION_HOURS: z.coerce
    .number()
    .min(0.05)
    .max(24)
    .default(8)
    .describe(
      'How long a console sign-in lasts (the credential is checked on every call too, so it ends with the token)',
    ),
  CONSOLE_TRACE_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => url.includes('{traceId}'), { error: 'must contain {traceId}' })
    .optional()
    .describe(
      "The trace backend's page of one trace, for the console's links: {traceId} is the W3C trace id (e.g. http://localhost:16686/trace/{traceId} for Jaeger); unset: ids only",
    ),
  ACCOUNTS_COLLECTION: z.string().default('accounts').describe('Collection of accounts'),
  SESSIONS_COLLECTION: z.string().default('sessions').describe('Collection of sessions'),
  API_TOKENS_COLLECTION: z
    .string()
    .default('api_tokens')
    .describe('Collection of users\u2019 API tokens'),
  WORKER_ENABLED: flag.default(true).describe('Run the background worker in this replica'),
  WORKER_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe('Pause between worker passes'),
  SETTLE_SWEEP_SECONDS: seconds
    .min(1)
    .default(15)
    .describe(
      'How often every replica (worker or not) finishes the account side effects a call could not (the account deactivated, sessions and tokens revoked)',
    ),
  WATCH_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(500)
    .describe('How often a live progress subscription reads its deletion request'),
  WATCH_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('Live progress subscriptions one replica serves at once (more: RESOURCE_EXHAUSTED)'),
  WATCH_MAX_PER_CALLER: z.coerce
    .number()
    .int()
    .min(1)
    .default(5)
    .describe('Live progress subscriptions one caller may have open on one replica at once'),
  WATCH_STREAM_SECONDS: seconds
    .min(1)
    .default(600)
    .describe('How long one live progress stream lasts before the client resumes it'),
  LEASE_SECONDS: seconds.min(1).default(60).describe('Lease of a claimed purge'),
  DEADLINE_WARNING_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(90)
    .default(7)
    .describe(
      'An open request whose legal deadline is this close (or past) counts in the deletion.requests.near_deadline gauge',
    ),
  HOUSEKEEPING_SECONDS: seconds
    .min(1)
    .default(3600)
    .describe(
      'Pause between housekeeping runs: the deadline check (a warning log per open request near its deadline), the retention sweep, the dev mailbox expiry',
    ),
  RECORD_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(180)
    .describe(
      'How long a closed request is kept whole after its last change; then it keeps only the pseudonym, states, times and outcomes (audited)',
    ),
  DEV_MAILBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24)
    .describe('How long the dev mailbox keeps a message'),
  PARTICIPANTS: participants
    .default([])
    .describe(
      'Linked services, JSON: [{"name","address","tls","timeoutMs","maxAttempts","phases","after","identity","subjectId","categories"}]; subjectId: "real" or "pseudonym"; categories: what to erase there (empty: all); tls: false (plaintext), true (system CAs) or {"caFile","certFile","keyFile","serverName"} (PEM paths read at start-up; certFile+keyFile: mutual TLS)',
    ),
  RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1000)
    .describe('First retry delay of a failed linked-service call (full jitter)'),
  RETRY_CAP_MS: z.coerce.number().int().min(0).default(300_000).describe('Longest retry delay'),
  FANOUT_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(8)
    .describe('Linked services one purge calls at once'),
  WORKER_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe('Requests one worker pass works on at once (purges, notices, shredding); default 16'),
  PSEUDONYM_SECRET: z
    .string()
    .min(32)
    .optional()
    .describe(
      'Key of the subject pseudonyms (HMAC): how the audit log and the erased-subject ledger name subjects, and what linked services registered with subjectId "pseudonym" get (required in production)',
    ),
  WRITE_PROTOCOL: z
    .enum(['auto', 'compare-and-set', 'version-claims'])
    .default('auto')
    .describe(
      'How a change of a request is made atomic: one version-guarded update (MongoDB), or a claim of the version first (FerretDB 1.x, which cannot compare-and-set); auto asks the server',
    ),
  LOCAL_ERASURE: z
    .enum(['after-participants', 'first'])
    .default('after-participants')
    .describe(
      "When the purge erases the account's own data: after every linked service answered, or first",
    ),
  BREAKER_WINDOW_SECONDS: seconds
    .min(60)
    .default(3600)
    .describe('Sliding window of the mass-deletion breaker'),
  BREAKER_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'Erasures that may start in one breaker window; one more pauses all erasures until a deletion:admin resumes',
    ),
  BREAKER_REQUESTER_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'Erasures one requester (a service or an administrator; not subjects deleting themselves) may start in one window',
    ),
  AUDIT_KEY: z
    .string()
    .min(32)
    .optional()
    .describe(
      'Secret of the audit log: its chain HMAC and the AES-256-GCM key of event details are derived from it (required in production)',
    ),
  DATA_KEK: z
    .string()
    .min(32)
    .optional()
    .describe(
      'Key-encryption key (local) that wraps each subject\u2019s data key; the AES-256 KEK is derived from it (required in production)',
    ),
  SUBJECT_KEY_CACHE_SECONDS: seconds
    .default(10)
    .describe(
      'How long a replica keeps a subject key it used (0: off); a key another replica destroys stays usable here that long',
    ),
  KEY_VAULT_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/)
    .optional()
    .describe(
      'Database of the subject data keys (default: MONGODB_DB + "_keys"); never the data database, back it up apart with a retention no longer than the grace period, or not at all',
    ),
  REPORT_SIGNING_KEY: z
    .string()
    .optional()
    .describe(
      'Ed25519 private key (PKCS#8 PEM) that signs erasure reports (required in production)',
    ),
  REPORT_SIGNING_KEY_SINCE: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('When REPORT_SIGNING_KEY began signing (RFC 3339), published with its key'),
  REPORT_PREVIOUS_KEYS: json('a JSON array of previous report keys')
    .pipe(z.array(previousReportKey))
    .optional()
    .describe(
      'Public keys that signed reports before a rotation, published so those reports still verify: JSON [{"publicKey": SPKI PEM, "validFrom"?: RFC 3339, "validUntil": RFC 3339}]',
    ),
  RATE_LIMIT_MUTATIONS: z.coerce
    .number()
    .int()
    .min(1)
    .default(300)
    .describe('Calls that change something one principal may make per principal window'),
  RATE_LIMIT_READS: z.coerce
    .number()
    .int()
    .min(1)
    .default(1200)
    .describe(
      'Reads (get, list, watch, report) one principal may make per principal window, counted by each replica on its own',
    ),
  RATE_LIMIT_OUTCOME_REPORTS: z.coerce
    .number()
    .int()
    .min(1)
    .default(3000)
    .describe('ReportErasureOutcome calls one linked service may make per principal window'),
  RATE_LIMIT_PRINCIPAL_WINDOW_SECONDS: seconds
    .min(1)
    .default(60)
    .describe('Window of the per-principal rate limits'),
  RATE_LIMIT_CODE_SENDS: z.coerce
    .number()
    .int()
    .min(1)
    // Each check reads the budget's slots: a per-subject budget stays small.
    .max(1000)
    .default(10)
    .describe('One-time codes sent to one subject per subject window, whoever asks'),
  RATE_LIMIT_CONFIRM_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe(
      'Codes tried for one subject per subject window, across its requests and replicas (ASVS: at most 100 failures an hour)',
    ),
  RATE_LIMIT_SUBJECT_WINDOW_SECONDS: seconds
    .min(3600)
    .default(3600)
    .describe('Window of the per-subject rate limits (sliding, exact)'),
  RATE_LIMIT_SWEEP_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(60_000)
    .describe('Pause between sweeps of expired rate-limit entries (the store has no TTL index)'),
  SHUTDOWN_GRACE_SECONDS: seconds
    .min(1)
    .default(25)
    .describe(
      'How long a replica takes at most to shut down (SIGTERM): calls in flight drain, purges record and release, watches end; then it exits',
    ),
  AUTH_FAILURE_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe(
      'Refused credentials one source (peer address; an API key) may present per window on one replica (more: RESOURCE_EXHAUSTED `TOO_MANY_FAILED_AUTHENTICATIONS`)',
    ),
  AUTH_FAILURE_WINDOW_SECONDS: seconds
    .min(1)
    .default(60)
    .describe('Window of the failed-authentication throttle'),
  DATABASE_STARTUP_WAIT_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60)
    .describe(
      'How long start-up waits for a database that does not answer (tries again after 1, 2, 4 … 10 s), then exits',
    ),
  READINESS_CHECK_MS: z.coerce
    .number()
    .int()
    .min(50)
    .default(2000)
    .describe(
      'How often the database is pinged for gRPC health: NOT_SERVING while it does not answer (as /readyz says 503)',
    ),
  SEED_DEMO: flag
    .default(false)
    .describe('Seed demo accounts and an API key at start (development)'),
});

/** The raw, parsed environment. */
export type ConfigValues = z.output<typeof configSchema>;
