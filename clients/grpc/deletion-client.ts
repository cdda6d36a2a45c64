import {
  credentials as grpcCredentials,
  Metadata,
  status,
  type CallOptions as GrpcCallOptions,
  type ChannelCredentials,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { context, propagation } from '@opentelemetry/api';
import * as messages from './gen/deletion/v1/deletion_service.js';
import {
  DeletionServiceClient,
  DeletionServiceService,
} from './gen/deletion/v1/deletion_service.js';
import { decodeRichError, grpcCodeName, type RichError } from './rich-error.js';

/** How a call proves who makes it: a bearer token (or a function giving a fresh one), or an API key. */
export type Auth =
  { readonly token: string | (() => string | Promise<string>) } | { readonly apiKey: string };

/** TLS to the service: PEM text or bytes; `cert` + `key` for mutual TLS. */
export interface TlsOptions {
  /** CAs that sign the service's certificate; default: the system's. */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** The name to check in the service's certificate, when the address is an IP or alias. */
  readonly serverName?: string;
}

/** Where the service is and how to call it. */
export interface DeletionClientOptions {
  /** `host:port`. */
  readonly address: string;
  /** Default plaintext (loopback, or a mesh that does TLS). */
  readonly tls?: TlsOptions | ChannelCredentials;
  /** Default credentials of every call. */
  readonly auth?: Auth;
  /** Deadline of every call, retries included (default 10 s). */
  readonly deadlineMs?: number;
  /** Retries of idempotent calls that failed UNAVAILABLE (default 3 attempts, 100 ms → 2 s, full jitter). */
  readonly retry?: {
    readonly attempts?: number;
    readonly baseMs?: number;
    readonly capMs?: number;
  };
}

/** Per-call options. */
export interface CallOptions {
  readonly deadlineMs?: number;
  readonly auth?: Auth;
  /** Cancels the call (it fails CANCELLED). */
  readonly signal?: AbortSignal;
}

/** A failed call, decoded: branch on `code` and `reason`, never on `message`. */
export class DeletionServiceError extends Error {
  override readonly name = 'DeletionServiceError';
  /** The gRPC status code name, e.g. `FAILED_PRECONDITION`. */
  readonly code: string;
  readonly grpcCode: status;
  /** ErrorInfo.reason, e.g. `INVALID_STATE`; empty when the status carried none. */
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly { readonly field: string; readonly description: string }[];
  /** When the server asked to wait before trying again (RetryInfo). */
  readonly retryDelayMs: number | undefined;
  /** The whole decoded `google.rpc.Status`, when the server sent one. */
  readonly status: RichError | undefined;

  constructor(error: ServiceError) {
    const rich = decodeRichError(error.metadata);
    // grpc-js ends a connection failure with "Resolution note: " and nothing after it.
    super(rich?.message ?? error.details.replace(/\s*Resolution note:\s*$/, ''));
    this.status = rich;
    this.grpcCode = error.code;
    this.code = grpcCodeName(error.code);
    this.reason = rich?.reason ?? '';
    this.metadata = rich?.metadata ?? {};
    this.fieldViolations = rich?.fieldViolations ?? [];
    this.retryDelayMs = rich?.retryDelayMs;
  }
}

type Unary<TReq, TRes> = (request: Partial<TReq>, options?: CallOptions) => Promise<TRes>;

/** One attempt of a generated stub method. */
type Invoke<TReq, TRes> = (
  request: TReq,
  call: {
    readonly metadata: Metadata;
    readonly options: Partial<GrpcCallOptions>;
    readonly callback: (error: ServiceError | null, response?: TRes) => void;
  },
) => ClientUnaryCall;

/** The RPCs of deletion.v1.DeletionService, as the generated definition names them. */
type Rpc = keyof typeof DeletionServiceService;
type RequestOf<M extends Rpc> = Parameters<
  (typeof DeletionServiceService)[M]['requestSerialize']
>[0];
type ResponseOf<M extends Rpc> = ReturnType<
  (typeof DeletionServiceService)[M]['responseDeserialize']
>;

/**
 * Every DeletionService RPC as a promise, derived from the generated
 * definition (a new RPC needs nothing here); inputs are partial (unset fields
 * take proto defaults).
 */
export type DeletionClient = { readonly [M in Rpc]: Unary<RequestOf<M>, ResponseOf<M>> } & {
  close(): void;
};

/**
 * Whether a call may be sent again after UNAVAILABLE: reads (Get…, List…,
 * Verify…, Check…) and RequestDeletion with a `request_id` (AIP-155). Not
 * ResumeErasures: a resume that landed, then a new trip, then the retry would
 * resume again.
 */
const repeatable = (rpc: Rpc, request: unknown): boolean =>
  /^(get|list|verify|check)[A-Z]/.test(rpc) ||
  (rpc === 'requestDeletion' && (request as { requestId?: string }).requestId !== '');

/** The generated message type of an RPC's request (buf lint holds the `<Rpc>Request` naming). */
const requestTypeOf = (rpc: Rpc): { fromPartial(value: unknown): unknown } => {
  const name = `${rpc.charAt(0).toUpperCase()}${rpc.slice(1)}Request`;
  const type = (messages as unknown as Record<string, { fromPartial(value: unknown): unknown }>)[
    name
  ];
  if (type === undefined) throw new Error(`no generated message ${name}`);
  return type;
};

const channelOf = (
  tls: DeletionClientOptions['tls'],
): { credentials: ChannelCredentials; options: Record<string, string> } => {
  if (tls === undefined) return { credentials: grpcCredentials.createInsecure(), options: {} };
  if (!('ca' in tls || 'cert' in tls || 'key' in tls || 'serverName' in tls))
    return { credentials: tls as ChannelCredentials, options: {} };
  const options = tls;
  const pem = (value: string | Buffer | undefined) =>
    value === undefined ? null : Buffer.from(value);
  return {
    credentials: grpcCredentials.createSsl(pem(options.ca), pem(options.key), pem(options.cert)),
    options:
      options.serverName === undefined
        ? {}
        : {
            'grpc.ssl_target_name_override': options.serverName,
            'grpc.default_authority': options.serverName,
          },
  };
};

/** The caller's trace context (W3C `traceparent`), when it has one: the service continues the trace. */
const traceMetadata = (metadata: Metadata): void => {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
};

const metadataFor = async (auth: Auth | undefined): Promise<Metadata> => {
  const metadata = new Metadata();
  traceMetadata(metadata);
  if (auth === undefined) return metadata;
  if ('apiKey' in auth) metadata.set('x-api-key', auth.apiKey);
  else {
    const token = typeof auth.token === 'function' ? await auth.token() : auth.token;
    metadata.set('authorization', `Bearer ${token}`);
  }
  return metadata;
};

/**
 * A typed, promise-based client of `deletion.v1.DeletionService`: every call
 * has a deadline (default or per call) that covers its retries; only
 * idempotent calls (reads, and RequestDeletion with a `requestId`) are
 * retried, and only after UNAVAILABLE; failures reject with a
 * DeletionServiceError carrying the code, the ErrorInfo reason and metadata,
 * and field violations.
 */
export const createDeletionClient = (options: DeletionClientOptions): DeletionClient => {
  const channel = channelOf(options.tls);
  const client = new DeletionServiceClient(options.address, channel.credentials, channel.options);
  const attempts = Math.max(1, options.retry?.attempts ?? 3);
  const baseMs = options.retry?.baseMs ?? 100;
  const capMs = options.retry?.capMs ?? 2000;

  /** One attempt; a signal that aborts cancels it. */
  const once = <TReq, TRes>(
    invoke: Invoke<TReq, TRes>,
    request: TReq,
    call: { metadata: Metadata; deadline: number; signal: AbortSignal | undefined },
  ): Promise<TRes> =>
    new Promise((resolve, reject) => {
      const cancel = () => running.cancel();
      const running = invoke(request, {
        metadata: call.metadata,
        options: { deadline: call.deadline },
        callback: (error, response) => {
          call.signal?.removeEventListener('abort', cancel);
          if (response === undefined || error) reject(error ?? new Error('no response'));
          else resolve(response);
        },
      });
      if (call.signal?.aborted) cancel();
      else call.signal?.addEventListener('abort', cancel, { once: true });
    });

  const unary =
    <M extends Rpc>(rpc: M): Unary<RequestOf<M>, ResponseOf<M>> =>
    async (partial, callOptions = {}) => {
      const definition = DeletionServiceService[rpc];
      const request = requestTypeOf(rpc).fromPartial(partial) as RequestOf<M>;
      const invoke: Invoke<RequestOf<M>, ResponseOf<M>> = (value, c) =>
        client.makeUnaryRequest(
          definition.path,
          definition.requestSerialize as (value: RequestOf<M>) => Buffer,
          definition.responseDeserialize as (bytes: Buffer) => ResponseOf<M>,
          value,
          c.metadata,
          c.options,
          c.callback,
        );
      const deadline = Date.now() + (callOptions.deadlineMs ?? options.deadlineMs ?? 10_000);
      const metadata = await metadataFor(callOptions.auth ?? options.auth);
      const signal = callOptions.signal;
      // Not grpc-js's retryPolicy: that is per method, and whether a call may be repeated
      // depends on the request (RequestDeletion only with a request_id).
      const tries = repeatable(rpc, request) ? attempts : 1;
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await once(invoke, request, { metadata, deadline, signal });
        } catch (error) {
          const failure = error as ServiceError;
          const wait = Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));
          const retry =
            failure.code === status.UNAVAILABLE &&
            attempt < tries &&
            Date.now() + wait < deadline &&
            signal?.aborted !== true;
          if (!retry) throw new DeletionServiceError(failure);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    };
  const methods = Object.fromEntries(
    (Object.keys(DeletionServiceService) as Rpc[]).map((rpc) => [rpc, unary(rpc)]),
  ) as { [M in Rpc]: Unary<RequestOf<M>, ResponseOf<M>> };
  return { ...methods, close: () => client.close() };
};
