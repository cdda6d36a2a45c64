// What the benchmarks' service processes share: their settings, and the subject's
// way through request and confirm.
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import type { DeletionClient } from '../../../clients/grpc/deletion-client.js';
import { CallError, type TestClient } from '../../support/grpc-test-client.js';
import { mintToken, TEST_AUDIENCE, TEST_ISSUER, TEST_SECRET } from '../../support/tokens.js';

/** The settings of a service process on `uri`/`dbName` that every benchmark needs. */
export const benchEnv = (uri: string, dbName: string): Record<string, string> => ({
  MONGODB_URI: uri,
  MONGODB_DB: dbName,
  JWT_ISSUER: TEST_ISSUER,
  JWT_AUDIENCE: TEST_AUDIENCE,
  JWT_HS256_SECRET: TEST_SECRET,
  OTP_SECRET: 'bench-only-otp-secret-0123456789abcdef',
});

/** An active account of `id` in the service's accounts collection. */
export const benchAccount = (id: string) => ({
  _id: id as never,
  email: `${id}@example.test`,
  roles: ['member'],
  flagged: false,
  jurisdiction: 'GDPR',
  locale: 'en',
  status: 'ACTIVE',
});

/** A service's token that may request deletions and read them. */
export const serviceToken = () =>
  mintToken({
    sub: 'bench',
    scope: 'deletion:request deletion:read',
    service: true,
    expiresInSeconds: 3600,
  });

/** When a stored request was confirmed (→ SCHEDULED) and completed, from its history (ms). */
export const confirmedToCompleted = (
  doc: Readonly<Record<string, unknown>>,
): { readonly confirmed: number; readonly done: number } | undefined => {
  const history = doc.history as readonly { to: string; at: Date }[];
  const confirmed = history.find((change) => change.to === 'SCHEDULED')?.at.getTime();
  const done = history.find((change) => change.to === 'COMPLETED')?.at.getTime();
  return confirmed !== undefined && done !== undefined ? { confirmed, done } : undefined;
};

/** A subject's own token with a fresh multi-factor login: it confirms without a code. */
export const stepUpAuth = async (subjectId: string) => ({
  token: await mintToken({
    sub: subjectId,
    scope: 'deletion:self',
    amr: ['pwd', 'mfa'],
    authTime: new Date(),
  }),
});

/** ABORTED means "retry" in this API (a concurrent change won): a client does, a few times. */
const retryingAborted = async <T>(call: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (
        !(error instanceof CallError && error.code === (status.ABORTED as number)) ||
        attempt >= 5
      )
        throw error;
      await sleep(50 * attempt);
    }
  }
};

/**
 * The subject asks for its deletion and confirms it with a step-up, retrying
 * ABORTED as the API asks; the request's name.
 */
export const requestAndConfirm = async (
  client: TestClient,
  subjectId: string,
  time: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<string> => {
  const auth = await stepUpAuth(subjectId);
  const { name } = await retryingAborted(() =>
    time(() => client.requestDeletion({ subjectId, reason: '' }, auth)),
  );
  try {
    await retryingAborted(() => time(() => client.confirmDeletion({ name }, auth)));
  } catch (error) {
    // The service confirmed, then lost the answer to a slow write and found it confirmed on
    // retrying (FerretDB under load): the deletion goes on. Counted, and anything else thrown.
    const state = (error as CallError).rich?.metadata.state;
    if (!(error instanceof CallError && error.reason === 'INVALID_STATE' && state === 'SCHEDULED'))
      throw error;
    confirmsAlreadyDone.count += 1;
  }
  return name;
};

/** Confirms answered INVALID_STATE although the request was confirmed (see requestAndConfirm). */
export const confirmsAlreadyDone = { count: 0 };

/**
 * Waits until a new request has recorded its receipt (sent by the replica
 * after RequestDeletion answered): from then on it answers the same message,
 * which a benchmark that checks every answer's size needs.
 */
export const receiptRecorded = async (client: DeletionClient, name: string): Promise<void> => {
  const deadline = Date.now() + 10_000;
  while ((await client.getDeletionRequest({ name })).sentNotices.length === 0) {
    if (Date.now() > deadline) throw new Error(`${name}: no receipt recorded within 10 s`);
    await sleep(20);
  }
};
