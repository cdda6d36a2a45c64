import type { Metadata } from '@grpc/grpc-js';
import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
} from '@opentelemetry/api';
import {
  ErasureParticipantServiceService,
  type EraseRequest,
  type EraseResponse,
  type Subject,
} from './gen/deletion/participant/v1/erasure_participant_service.js';

/** Which subject, for which deletion request (`deletionRequests/{id}`: the idempotency key). */
export interface ParticipantSubject {
  readonly deletionRequest: string;
  readonly subjectId: string;
}

/** What a handler gets besides the subject: a signal that aborts at the call's deadline. */
export interface CallContext {
  readonly signal: AbortSignal;
  readonly deadline: Date | undefined;
  /** The caller's trace context, to continue the trace in your own spans. */
  readonly trace: Context;
}

/** The outcome of an Erase. */
export type EraseOutcome =
  | { readonly kind: 'erased'; readonly records: number; readonly categories?: readonly string[] }
  | { readonly kind: 'nothingFound' }
  | {
      readonly kind: 'retained';
      readonly legalBasis: string;
      readonly categories: readonly string[];
      readonly until?: Date;
      readonly erasedRecords?: number;
    }
  | { readonly kind: 'accepted'; readonly expectedBy: Date };

/**
 * The three things a linked service implements. Each must be idempotent on
 * `deletionRequest` in its own store (the SDK also answers a repeat from memory,
 * but memory does not survive a restart).
 */
export interface ParticipantHandlers {
  suspend(subject: ParticipantSubject, call: CallContext): Promise<void>;
  restore(subject: ParticipantSubject, call: CallContext): Promise<void>;
  erase(
    subject: ParticipantSubject,
    call: CallContext & { readonly categories: readonly string[] },
  ): Promise<EraseOutcome>;
}

/** Throw this from a handler to answer with a specific gRPC status (default: UNAVAILABLE, retried). */
export class ParticipantError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * TLS of a participant server. PEM text or Buffers. With `clientCa`, callers
 * must present a certificate it signed (mutual TLS) unless
 * `requireClientCert` is false.
 */
export interface ParticipantServerTls {
  /** The server's certificate chain; its names must match how the deletion service dials it. */
  readonly cert: string | Buffer;
  /** Its private key. */
  readonly key: string | Buffer;
  /** CA certificates that sign the callers' client certificates. */
  readonly clientCa?: string | Buffer;
  /** Refuse callers without a client certificate from `clientCa`; default: true when it is set. */
  readonly requireClientCert?: boolean;
}

/** A running participant server. */
export interface ParticipantServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

const toResponse = (outcome: EraseOutcome): EraseResponse['outcome'] => {
  switch (outcome.kind) {
    case 'erased':
      return {
        $case: 'erased',
        value: { records: String(outcome.records), categories: [...(outcome.categories ?? [])] },
      };
    case 'nothingFound':
      return { $case: 'nothingFound', value: {} };
    case 'retained':
      return {
        $case: 'retained',
        value: {
          legalBasis: outcome.legalBasis,
          categories: [...outcome.categories],
          until: outcome.until,
          erasedRecords: String(outcome.erasedRecords ?? 0),
        },
      };
    case 'accepted':
      return { $case: 'accepted', value: { expectedBy: outcome.expectedBy } };
  }
};

/**
 * Plaintext without `tls`. Requiring client certificates without naming their
 * CA would trust every CA the system trusts, so that is refused.
 */
const serverCredentials = (tls: ParticipantServerTls | undefined): ServerCredentials => {
  if (tls === undefined) return ServerCredentials.createInsecure();
  const requireClientCert = tls.requireClientCert ?? tls.clientCa !== undefined;
  if (requireClientCert && tls.clientCa === undefined)
    throw new TypeError('tls.requireClientCert needs tls.clientCa (the CA of the callers)');
  return ServerCredentials.createSsl(
    tls.clientCa === undefined ? null : Buffer.from(tls.clientCa),
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    requireClientCert,
  );
};

const traceOf = (metadata: Metadata): Context => {
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap()))
    if (typeof value === 'string') carrier[key] = value;
  return propagation.extract(context.active(), carrier);
};

const tracer = trace.getTracer('participant-sdk');

/**
 * Runs a call in a SERVER span that continues the deletion service's trace
 * (named like instrumentation-grpc's spans); the handler gets its context, so
 * the service's own spans nest under it. A failure sets the span's status only.
 */
const inServerSpan = <T>(
  method: string,
  call: CallContext,
  run: (traced: CallContext) => Promise<T>,
): Promise<T> => {
  const rpcMethod = `${method.charAt(0).toUpperCase()}${method.slice(1)}`;
  return tracer.startActiveSpan(
    `grpc.deletion.participant.v1.ErasureParticipantService/${rpcMethod}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': 'deletion.participant.v1.ErasureParticipantService',
        'rpc.method': rpcMethod,
      },
    },
    call.trace,
    async (span) => {
      try {
        return await run({ ...call, trace: context.active() });
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
};

/** A signal that aborts at the call's deadline or when the caller cancels. */
const callContext = (call: ServerUnaryCall<unknown, unknown>): CallContext => {
  const controller = new AbortController();
  const deadline = call.getDeadline();
  const at =
    deadline instanceof Date
      ? deadline
      : Number.isFinite(deadline)
        ? new Date(deadline)
        : undefined;
  if (at !== undefined)
    setTimeout(
      () => controller.abort(new Error('deadline exceeded')),
      Math.max(0, at.getTime() - Date.now()),
    ).unref();
  call.once('cancelled', () => controller.abort(new Error('cancelled by the caller')));
  return { signal: controller.signal, deadline: at, trace: traceOf(call.metadata) };
};

/**
 * A correct ErasureParticipantService from three async functions: it echoes
 * the subject (the deletion service refuses answers that don't), runs each
 * (method, request) once even when the same call arrives twice at the same
 * time, answers a repeat of a finished call from memory, hands every handler a
 * deadline signal and the caller's trace context, and turns failures into
 * gRPC statuses (UNAVAILABLE unless a ParticipantError says otherwise).
 * With `options.tls` it serves TLS, and mutual TLS with `tls.clientCa`; it
 * throws a TypeError when client certificates are required without a CA.
 */
export const createParticipantServer = (
  handlers: ParticipantHandlers,
  options: { readonly remember?: number; readonly tls?: ParticipantServerTls } = {},
): ParticipantServer => {
  const credentials = serverCredentials(options.tls);
  const server = new Server();
  const remember = options.remember ?? 10_000;
  const answers = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const known = answers.get(key) as Promise<T> | undefined;
    if (known) return known;
    const answer = run();
    answers.set(key, answer);
    answer.catch(() => answers.delete(key)); // a failure is not an answer: the next call runs again
    if (answers.size > remember) answers.delete(answers.keys().next().value ?? key);
    return answer;
  };
  const unary =
    <TReq extends { subject?: Subject | undefined }, TRes>(
      method: string,
      run: (subject: ParticipantSubject, request: TReq, call: CallContext) => Promise<TRes>,
    ) =>
    (call: ServerUnaryCall<TReq, TRes>, callback: sendUnaryData<TRes>) => {
      const subject = call.request.subject;
      if (!subject?.deletionRequest || !subject.subjectId) {
        callback({
          code: status.INVALID_ARGUMENT,
          details: 'subject.deletion_request and subject.subject_id are required',
        });
        return;
      }
      const key = `${method}\0${subject.deletionRequest}\0${subject.subjectId}`;
      const info = callContext(call);
      once(key, () =>
        inServerSpan(method, info, (traced) => run(subject, call.request, traced)),
      ).then(
        (response) => callback(null, response),
        (error: unknown) =>
          callback({
            code: error instanceof ParticipantError ? error.code : status.UNAVAILABLE,
            details: error instanceof Error ? error.message : 'failed',
          }),
      );
    };
  server.addService(ErasureParticipantServiceService, {
    suspend: unary('suspend', async (subject, _request, call) => {
      await handlers.suspend(subject, call);
      return { subject };
    }),
    restore: unary('restore', async (subject, _request, call) => {
      await handlers.restore(subject, call);
      return { subject };
    }),
    erase: unary('erase', async (subject, request: EraseRequest, call) => ({
      subject,
      outcome: toResponse(
        await handlers.erase(subject, { ...call, categories: request.categories }),
      ),
    })),
  });
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) =>
        server.bindAsync(`${host}:${String(port)}`, credentials, (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      ),
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
};
