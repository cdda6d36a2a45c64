import { dependencyCycle } from '../domain/erasure-steps.js';
import { configSchema, type ConfigValues } from './config-schema.js';

/** Bad configuration; the message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The validated configuration of one process. */
export type Config = Readonly<ConfigValues>;

const DEV_OTP_SECRET = 'development-only-otp-secret-do-not-use-in-prod';
const DEV_JWT_SECRET = 'development-only-jwt-secret-do-not-use-in-prod';
const DEV_PSEUDONYM_SECRET = 'development-only-pseudonym-secret-do-not-use';
const DEV_AUDIT_KEY = 'development-only-audit-key-do-not-use-in-production';

/** In development the completion notice links to this service's own report path; elsewhere only what is set. */
const developmentReportUrl = (config: {
  readonly DELETION_ENV: string;
  readonly HTTP_HOST: string;
  readonly HTTP_PORT: number;
}): string | undefined =>
  config.DELETION_ENV === 'development' && config.HTTP_PORT !== 0
    ? `http://${config.HTTP_HOST}:${String(config.HTTP_PORT)}/erasure-reports/{request}?token={token}`
    : undefined;
const DEV_DATA_KEK = 'development-only-data-kek-do-not-use-in-production';

/** Names are unique, `after` names a known service, and the order has no cycle. */
const registryProblems = (participants: ConfigValues['PARTICIPANTS']): string[] => {
  const names = participants.map((p) => p.name);
  const problems = names
    .filter((name, index) => names.indexOf(name) !== index)
    .map((name) => `PARTICIPANTS: "${name}" is registered twice`);
  for (const p of participants) {
    for (const other of p.after.filter((name) => !names.includes(name))) {
      problems.push(`PARTICIPANTS: "${p.name}" comes after unknown "${other}"`);
    }
  }
  const cycle = dependencyCycle(participants);
  if (cycle.length > 0)
    problems.push(`PARTICIPANTS: the "after" order has a cycle: ${cycle.join(' -> ')}`);
  return problems;
};

/** TLS of the gRPC server: a certificate needs its key, client CAs need TLS and an allow-list, and the reverse. */
const grpcTlsProblems = (config: ConfigValues): string[] => {
  const problems: string[] = [];
  const serverTls = config.GRPC_TLS_CERT_FILE !== undefined;
  if (serverTls !== (config.GRPC_TLS_KEY_FILE !== undefined))
    problems.push('GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE: set both or neither');
  const clientCa = config.GRPC_CLIENT_CA_FILE !== undefined;
  if (clientCa && !serverTls)
    problems.push('GRPC_CLIENT_CA_FILE: needs GRPC_TLS_CERT_FILE (client certificates need TLS)');
  if (clientCa && config.GRPC_CLIENT_PRINCIPALS === undefined)
    problems.push('GRPC_CLIENT_PRINCIPALS: required with GRPC_CLIENT_CA_FILE (who may call)');
  if (!clientCa && config.GRPC_CLIENT_PRINCIPALS !== undefined)
    problems.push('GRPC_CLIENT_PRINCIPALS: needs GRPC_CLIENT_CA_FILE (to verify certificates)');
  return problems;
};

/** A notice channel is configured whole or not at all; in production, push goes over HTTPS. */
const channelProblems = (config: ConfigValues): string[] => {
  const problems: string[] = [];
  const sms = [config.SMS_ACCOUNT, config.SMS_TOKEN, config.SMS_FROM];
  if (config.SMS_API_URL !== undefined && sms.some((value) => value === undefined))
    problems.push('SMS_ACCOUNT, SMS_TOKEN, SMS_FROM: required with SMS_API_URL');
  if (config.SMS_API_URL === undefined && sms.some((value) => value !== undefined))
    problems.push('SMS_API_URL: required with SMS_ACCOUNT, SMS_TOKEN or SMS_FROM');
  if ((config.PUSH_WEBHOOK_URL === undefined) !== (config.PUSH_WEBHOOK_SECRET === undefined))
    problems.push('PUSH_WEBHOOK_URL, PUSH_WEBHOOK_SECRET: set both or neither');
  const clear = (url: string | undefined) => url !== undefined && !url.startsWith('https://');
  if (config.DELETION_ENV === 'production' && clear(config.PUSH_WEBHOOK_URL))
    problems.push('PUSH_WEBHOOK_URL: must be https:// in production');
  if (config.DELETION_ENV === 'production' && clear(config.SMS_API_URL))
    problems.push('SMS_API_URL: must be https:// in production');
  if (config.DELETION_ENV === 'production' && clear(config.NOTICE_REPORT_URL))
    problems.push('NOTICE_REPORT_URL: must be https:// in production');
  for (const { name, owner } of config.PARTICIPANTS)
    if (config.DELETION_ENV === 'production' && clear(owner?.webhook))
      problems.push(`PARTICIPANTS: ${name}'s owner.webhook must be https:// in production`);
  return problems;
};

const productionProblems = (config: ConfigValues): string[] => {
  const problems: string[] = [];
  if (config.MONGODB_URI === undefined)
    problems.push('MONGODB_URI: required in production (an embedded database is for development)');
  if (config.OTP_SECRET === undefined) problems.push('OTP_SECRET: required in production');
  if (config.JWT_HS256_SECRET !== undefined)
    problems.push('JWT_HS256_SECRET: not allowed in production');
  if (config.NOTIFIER === 'dev-mailbox')
    problems.push('NOTIFIER: dev-mailbox is not allowed in production');
  if (config.SEED_DEMO) problems.push('SEED_DEMO: demo data is not allowed in production');
  if (config.REPORT_SIGNING_KEY === undefined)
    problems.push('REPORT_SIGNING_KEY: required in production');
  if (config.AUDIT_KEY === undefined) problems.push('AUDIT_KEY: required in production');
  // The audit log and the ledger name subjects by it: with a public key, a pseudonym is a subject id.
  if (config.PSEUDONYM_SECRET === undefined)
    problems.push('PSEUDONYM_SECRET: required in production');
  if (config.DATA_KEK === undefined) problems.push('DATA_KEK: required in production');
  if (config.JWT_JWKS_URL === undefined && config.JWT_PUBLIC_KEYS === undefined) {
    problems.push('JWT_JWKS_URL: set it (or JWT_PUBLIC_KEYS) in production');
  }
  return problems;
};

/**
 * Reads the configuration from an environment map (pure: pass `process.env`).
 * Throws ConfigError naming each bad variable. Outside production, missing
 * secrets get development defaults so `npm start` works out of the box.
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): Config => {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = parsed.data;
  if (config.DELETION_ENV === 'production') {
    const problems = productionProblems(config);
    if (problems.length > 0)
      throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  if (config.NOTIFIER === 'smtp' && config.SMTP_URL === undefined) {
    throw new ConfigError('invalid configuration:\n  SMTP_URL: required when NOTIFIER=smtp');
  }
  const channels = channelProblems(config);
  if (channels.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${channels.join('\n  ')}`);
  const grpcTls = grpcTlsProblems(config);
  if (grpcTls.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${grpcTls.join('\n  ')}`);
  const keyVault = config.KEY_VAULT_DB ?? `${config.MONGODB_DB}_keys`;
  // In the data database, the keys would be in every backup of the data they are to shred.
  if (keyVault === config.MONGODB_DB)
    throw new ConfigError('invalid configuration:\n  KEY_VAULT_DB: must not be MONGODB_DB');
  if (keyVault.length > 63)
    throw new ConfigError(
      'invalid configuration:\n  KEY_VAULT_DB: set it (MONGODB_DB is too long)',
    );
  const registry = registryProblems(config.PARTICIPANTS);
  if (registry.length > 0)
    throw new ConfigError(`invalid configuration:\n  ${registry.join('\n  ')}`);
  const noKeys = config.JWT_JWKS_URL === undefined && config.JWT_PUBLIC_KEYS === undefined;
  return Object.freeze({
    ...config,
    OTP_SECRET: config.OTP_SECRET ?? DEV_OTP_SECRET,
    PSEUDONYM_SECRET: config.PSEUDONYM_SECRET ?? DEV_PSEUDONYM_SECRET,
    AUDIT_KEY: config.AUDIT_KEY ?? DEV_AUDIT_KEY,
    NOTICE_REPORT_URL: config.NOTICE_REPORT_URL ?? developmentReportUrl(config),
    DATA_KEK: config.DATA_KEK ?? DEV_DATA_KEK,
    KEY_VAULT_DB: keyVault,
    JWT_HS256_SECRET: config.JWT_HS256_SECRET ?? (noKeys ? DEV_JWT_SECRET : undefined),
  });
};
