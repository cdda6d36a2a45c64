import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopes } from '../../src/domain/principal.js';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { snapshotDb, type DbSnapshot } from '../support/db-snapshot.js';
import { createRawGrpcClient, methodsOf, type RawGrpcClient } from '../support/raw-grpc-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

const grpcMethods = methodsOf(DeletionServiceService);

/** Bytes no request message decodes from. */
const undecodable = {
  'wire type 7': Buffer.from([0x0f]),
  'varint without end': Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  'length past the end': Buffer.from([0x0a, 0x05, 0x61]),
  'wire type 6 after a field': Buffer.from([0x08, 0x01, 0x16]),
};

describe('fuzzing every RPC and procedure', () => {
  let t: TestApp;
  let raw: RawGrpcClient;
  let everyScope: Record<string, string>;
  let before: DbSnapshot;
  beforeAll(async () => {
    t = await startTestApp();
    raw = createRawGrpcClient(`127.0.0.1:${String(t.ports.grpc)}`);
    const token = await mintToken({ sub: 'fuzz-every-scope', scope: scopes.join(' ') });
    everyScope = { authorization: `Bearer ${token}` };
    before = await snapshotDb(t.app.connection);
  });
  afterAll(async () => {
    raw.close();
    await t[Symbol.asyncDispose]();
  });

  it('answers bytes that are not a message of the method with INVALID_ARGUMENT, not INTERNAL', async () => {
    for (const method of grpcMethods) {
      for (const [what, body] of Object.entries(undecodable)) {
        const answered = await raw.call(method, body, everyScope);
        expect(answered.code, `${method.key}, ${what}`).toBe(status.INVALID_ARGUMENT);
        const anonymous = await raw.call(method, body, {});
        expect(anonymous.code, `${method.key}, ${what}`).toBe(status.UNAUTHENTICATED);
      }
    }
    expect(await snapshotDb(t.app.connection)).toEqual(before);
  });
});
