import {
  createDeletionClient,
  DeletionServiceError,
  type CallOptions,
  type DeletionClient,
  type TlsOptions,
} from '../../clients/grpc/deletion-client.js';
import type { RichError } from '../../clients/grpc/rich-error.js';

/** A failed call: the gRPC code and the decoded google.rpc.Status details. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly rich: RichError | undefined,
  ) {
    super(`gRPC ${String(code)}: ${rich?.reason ?? ''} ${rich?.message ?? ''}`);
  }
  get reason(): string {
    return this.rich?.reason ?? '';
  }
}

/** Credentials for one call: a bearer token, an API key, or none. */
export type Auth = { token: string } | { apiKey: string } | null;

type WithAuth<F> = F extends (request: infer R, options?: CallOptions) => Promise<infer T>
  ? (request: R, auth: Auth) => Promise<T>
  : F;

/** Every RPC of the service, called as one principal per call. */
export type TestClient = { [K in keyof DeletionClient]: WithAuth<DeletionClient[K]> };

/**
 * The service's own gRPC client (`clients/grpc`) with a 10 s deadline (unless
 * given) and no retries (a test sees every failure), its errors as CallError;
 * plaintext unless `tls` is given.
 */
export const createTestClient = (
  address: string,
  options: { readonly tls?: TlsOptions; readonly deadlineMs?: number } = {},
): TestClient => {
  const client = createDeletionClient({
    address,
    deadlineMs: options.deadlineMs ?? 10_000,
    retry: { attempts: 1 },
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const asCallError = (error: unknown): never => {
    if (error instanceof DeletionServiceError) throw new CallError(error.grpcCode, error.status);
    throw error;
  };
  const wrapped = Object.fromEntries(
    Object.entries(client).map(([method, fn]) => [
      method,
      method === 'close'
        ? fn
        : (request: object, auth: Auth) =>
            (fn as (request: object, options: CallOptions) => Promise<unknown>)(
              request,
              auth === null ? {} : { auth },
            ).catch(asCallError),
    ]),
  );
  return wrapped as TestClient;
};

/** Awaits a rejected call and returns its CallError (fails the test if it resolved). */
export const callError = async (promise: Promise<unknown>): Promise<CallError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CallError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
};
