import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { Config } from '../config/load-config.js';

/** Where `npm start` keeps the development signing key of erasure reports, under its data directory. */
export const SIGNING_KEY_FILE = 'report-signing-key.pem';

/** Where `npm start` writes the credentials development tools find by themselves (deletionctl). */
export const CREDENTIALS_FILE = 'dev-credentials.json';

/** What `npm start` leaves for development tools: where the service is, and a token to call it. */
export interface DevelopmentCredentials {
  /** gRPC `host:port`. */
  readonly address: string;
  /** HTTP base URL (tRPC under /trpc). */
  readonly httpUrl: string;
  /** A development operator's bearer token: every scope but a subject's and a linked service's. */
  readonly token: string;
  readonly expiresAt: string;
  readonly note: string;
}

const isMissing = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && error.code === 'ENOENT';

/**
 * The development key that signs erasure reports, kept in `dataDir` (made
 * there the first time, readable by its owner only), so a report signed
 * before a restart still verifies after it. Development only: production
 * takes REPORT_SIGNING_KEY and refuses to start without it.
 */
export const developmentSigningKey = async (dataDir: string): Promise<string> => {
  const path = join(dataDir, SIGNING_KEY_FILE);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const pem = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  await mkdir(dataDir, { recursive: true });
  // `wx`: a second start racing this one keeps the key the first wrote.
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  });
  return readFile(path, 'utf8');
};

const OPERATOR_SCOPES = 'deletion:admin deletion:read deletion:request deletion:approve';
const CREDENTIALS_TTL_SECONDS = 7 * 86_400;

/**
 * Writes, for the tools of the person running `npm start`, where the service
 * listens and a development operator's token (HS256 with the development
 * secret, a week long), readable by its owner only. `deletionctl` finds it
 * by itself and says so.
 */
export const writeDevelopmentCredentials = async (
  config: Pick<
    Config,
    'DATA_DIR' | 'GRPC_HOST' | 'HTTP_HOST' | 'JWT_HS256_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'
  >,
  ports: { readonly grpcPort: number; readonly httpPort: number },
): Promise<string | undefined> => {
  const secret = config.JWT_HS256_SECRET;
  if (secret === undefined) return undefined;
  const now = Math.floor(Date.now() / 1000);
  const expires = now + CREDENTIALS_TTL_SECONDS;
  const token = await new SignJWT({ scope: OPERATOR_SCOPES })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('dev-operator')
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(expires)
    .sign(new TextEncoder().encode(secret));
  const credentials: DevelopmentCredentials = {
    address: `${config.GRPC_HOST}:${String(ports.grpcPort)}`,
    httpUrl: `http://${config.HTTP_HOST}:${String(ports.httpPort)}`,
    token,
    expiresAt: new Date(expires * 1000).toISOString(),
    note: 'written by npm start for development tools (deletionctl); never valid in production',
  };
  await mkdir(config.DATA_DIR, { recursive: true });
  const path = join(config.DATA_DIR, CREDENTIALS_FILE);
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return path;
};
