import { createRequire } from 'node:module';
import {
  loadPackageDefinition,
  status,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { DescriptorIndex } from './descriptor-index.js';
import { isMalformed, tolerantDecoding, type MalformedRequest } from '../malformed-request.js';

interface ReflectionRequest {
  readonly host?: string;
  readonly fileByFilename?: string;
  readonly fileContainingSymbol?: string;
  readonly listServices?: string;
  readonly messageRequest?: string;
}

type ReflectionStream = ServerDuplexStream<ReflectionRequest, object>;

const answer = (index: DescriptorIndex, request: ReflectionRequest): object => {
  const files =
    request.fileByFilename !== undefined
      ? index.fileByName(request.fileByFilename)
      : request.fileContainingSymbol !== undefined
        ? index.fileContainingSymbol(request.fileContainingSymbol)
        : undefined;
  if (files !== undefined)
    return {
      fileDescriptorResponse: { fileDescriptorProto: files.map((file) => Buffer.from(file)) },
    };
  if (request.listServices !== undefined)
    return { listServicesResponse: { service: index.services.map((name) => ({ name })) } };
  return { errorResponse: { errorCode: status.NOT_FOUND, errorMessage: 'not found' } };
};

const handler = (index: DescriptorIndex) => (stream: ReflectionStream) => {
  stream.on('data', (request: ReflectionRequest | MalformedRequest) => {
    if (isMalformed(request)) {
      // The protocol's answer to a bad request; the stream goes on.
      stream.write({
        errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'malformed request' },
      });
      return;
    }
    stream.write({
      validHost: request.host ?? '',
      originalRequest: request,
      ...answer(index, request),
    });
  });
  stream.on('end', () => stream.end());
};

/**
 * gRPC server reflection (v1 and v1alpha) served from the build's own
 * FileDescriptorSet, so every file comes with its real imports. (The
 * @grpc/reflection package rebuilds files from a protobufjs root and drops
 * the imports, which breaks `buf curl` and grpcurl on multi-file schemas.)
 */
export const addReflection = (server: Server, index: DescriptorIndex): void => {
  const protoDir = createRequire(import.meta.url)
    .resolve('@grpc/reflection/package.json')
    .replace(/package\.json$/, 'build/proto');
  for (const version of ['v1', 'v1alpha'] as const) {
    const definition = loadPackageDefinition(
      loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [protoDir] }),
    );
    const reflection = (
      definition.grpc as Record<
        string,
        Record<string, Record<string, { service: ServiceDefinition }>>
      >
    ).reflection?.[version]?.ServerReflection;
    if (reflection === undefined) throw new Error(`reflection ${version} proto not found`);
    server.addService(tolerantDecoding(reflection.service), {
      ServerReflectionInfo: handler(index),
    });
  }
};
