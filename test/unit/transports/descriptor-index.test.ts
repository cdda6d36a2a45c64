import { describe, expect, it } from 'vitest';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { descriptorSetBase64 } from '../../../src/gen/descriptor-set.js';
import { createDescriptorIndex } from '../../../src/transports/grpc/reflection/descriptor-index.js';

/** The name (field 1) of an encoded FileDescriptorProto. */
const fileName = (bytes: Uint8Array): string => {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) return reader.string();
    reader.skip(wireType);
  }
  return '';
};

const index = createDescriptorIndex(Buffer.from(descriptorSetBase64, 'base64'), {
  services: [
    'deletion.v1.DeletionService',
    'grpc.reflection.v1.ServerReflection',
    'no.such.Service',
  ],
  companions: ['google/rpc/error_details.proto'],
});

describe('the reflection index', () => {
  it('lists only the services the server serves that the schema has', () => {
    expect(index.services).toEqual([
      'deletion.v1.DeletionService',
      'grpc.reflection.v1.ServerReflection',
    ]);
  });

  it('answers for a service with its file, its imports and the error details files', () => {
    const files = index.fileContainingSymbol('deletion.v1.DeletionService')!.map(fileName);
    expect(files[0]).toBe('deletion/v1/deletion_service.proto');
    expect(files).toContain('deletion/v1/deletion_request.proto');
    expect(files).toContain('google/rpc/error_details.proto');
    expect(new Set(files).size).toBe(files.length);
  });

  it('resolves the reflection protocol and the error details by symbol', () => {
    expect(
      index.fileContainingSymbol('grpc.reflection.v1.ServerReflection')?.map(fileName)[0],
    ).toBe('grpc/reflection/v1/reflection.proto');
    expect(index.fileContainingSymbol('.google.rpc.ErrorInfo')?.map(fileName)[0]).toBe(
      'google/rpc/error_details.proto',
    );
  });
});
