import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';

/** One method of a served gRPC service, as its definition describes it. */
export interface RawMethod {
  /** The definition's key, e.g. `requestDeletion`. */
  readonly key: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The methods of a grpc-js service definition (ts-proto's `…Service` object). */
export const methodsOf = (
  definition: Readonly<
    Record<string, { path: string; requestStream: boolean; responseStream: boolean }>
  >,
): RawMethod[] =>
  Object.entries(definition).map(([key, { path, requestStream, responseStream }]) => ({
    key,
    path,
    requestStream,
    responseStream,
  }));

/** Call metadata: `authorization` and/or `x-api-key`, or nothing. */
export type RawCredentials = Readonly<Record<string, string>>;

/** How a call ended: the status code (0 is OK) and its details. */
export interface RawOutcome {
  readonly code: status;
  readonly details: string;
}

const bytes = (value: Buffer): Buffer => value;

const outcomeOf = (error: ServiceError | null): RawOutcome =>
  error === null ? { code: status.OK, details: '' } : { code: error.code, details: error.details };

/** Reads a response stream to its first message (then cancels: an OK answer) or its status. */
const firstAnswer = (stream: ClientReadableStream<Buffer>): Promise<RawOutcome> =>
  new Promise((resolve) => {
    stream.on('data', () => {
      resolve({ code: status.OK, details: 'first message' });
      stream.cancel();
    });
    stream.on('error', () => undefined);
    stream.on('status', ({ code, details }: { code: status; details: string }) => {
      resolve({ code, details });
    });
  });

/**
 * A gRPC client that sends any bytes as the request of any method (identity
 * serializers), so the server has to decode whatever arrives. Every call has
 * a deadline: a server that hangs fails the test with DEADLINE_EXCEEDED.
 */
export const createRawGrpcClient = (address: string, deadlineMs = 10_000) => {
  const Client = makeGenericClientConstructor({}, 'RawFuzzClient');
  // The client may send more than the server accepts: the server must refuse it.
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  const metadataOf = (auth: RawCredentials): Metadata => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(auth)) metadata.set(key, value);
    return metadata;
  };
  const call = (method: RawMethod, body: Buffer, auth: RawCredentials): Promise<RawOutcome> => {
    const metadata = metadataOf(auth);
    const options = { deadline: Date.now() + deadlineMs };
    const { path } = method;
    if (method.requestStream) {
      if (method.responseStream) {
        const stream = client.makeBidiStreamRequest(path, bytes, bytes, metadata, options);
        stream.end(body);
        return firstAnswer(stream);
      }
      return new Promise((resolve) => {
        const stream = client.makeClientStreamRequest(path, bytes, bytes, metadata, options, (e) =>
          resolve(outcomeOf(e)),
        );
        stream.end(body);
      });
    }
    if (method.responseStream)
      return firstAnswer(
        client.makeServerStreamRequest(path, bytes, bytes, body, metadata, options),
      );
    return new Promise((resolve) => {
      client.makeUnaryRequest(path, bytes, bytes, body, metadata, options, (error) =>
        resolve(outcomeOf(error)),
      );
    });
  };
  return { call, close: () => client.close() };
};

/** A raw client of `createRawGrpcClient`. */
export type RawGrpcClient = ReturnType<typeof createRawGrpcClient>;
