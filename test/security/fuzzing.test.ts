import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { createDeletionRouter } from '../../src/transports/trpc/router.js';
import { seedFuzzTarget, type FuzzTarget } from '../support/fuzz-target.js';
import {
  encode,
  encodedMessage,
  garbledBytes,
  idFieldsOf,
  malformedIds,
  messageInit,
  plausibleWords,
  requestMessageOf,
  seededWords,
  wildWords,
  type RealIds,
  type Words,
} from '../support/fuzz-inputs.js';
import {
  entriesOf,
  jsonText,
  looseEntriesOf,
  malformedIdText,
  objectText,
} from '../support/fuzz-json.js';
import {
  createRawGrpcClient,
  methodsOf,
  type RawCredentials,
  type RawGrpcClient,
  type RawOutcome,
} from '../support/raw-grpc-client.js';
import {
  callTrpc,
  proceduresOf,
  type RawProcedure,
  type TrpcOutcome,
} from '../support/raw-trpc-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Property-based fuzzing (issue 6): random and malformed input to every gRPC
 * method of the DeletionService and every tRPC procedure, enumerated from the
 * service definition and the router, so a method added later is fuzzed without
 * an edit here. Each answer must be INVALID_ARGUMENT or a valid answer, never a
 * fault nor a hang, and nothing may be written. On failure fast-check prints
 * the seed; FUZZ_SEED=<seed> replays it, FUZZ_SCALE=<n> runs n times as many cases.
 */

/**
 * Settings of the app under test. `startTestApp` already raises the
 * per-principal rate limits far above the ~1,700 calls here; should a limit
 * refuse some, the random properties accept RESOURCE_EXHAUSTED /
 * TOO_MANY_REQUESTS, the exact ones (malformed ids, no credentials) do not:
 * raise the limit here rather than loosen a property.
 */
const FUZZ_ENV: Record<string, string> = {};

const MiB = 1024 * 1024;
/** Node's HTTP parser refuses request heads over 16 KiB (431) before tRPC sees them. */
const MAX_HTTP_HEADER = 16 * 1024;
const scale = Number(process.env.FUZZ_SCALE ?? '1');
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns: Math.ceil(numRuns * scale),
  // No shrinking: the server keeps state, so once a call has written, every smaller
  // input would fail too. The first failing input is the one to look at.
  endOnFailure: true,
  ...(process.env.FUZZ_SEED !== undefined && { seed: Number(process.env.FUZZ_SEED) }),
});

/**
 * gRPC codes a random input may get, and why each is a valid answer:
 * INVALID_ARGUMENT — what most random input must get;
 * OK — a well-formed input can name the seeded request or subject, and reading them succeeds;
 * NOT_FOUND — a well-formed name or subject id that does not exist;
 * PERMISSION_DENIED — outside the caller's reach (a self-scoped caller and another
 *   subject's request, a participant name that is not the caller);
 * FAILED_PRECONDITION — the seeded request is CANCELLED: its state refuses every change;
 * ALREADY_EXISTS — requestDeletion for the seeded subject, who has an active request;
 * ABORTED — an etag that does not match (optimistic concurrency);
 * RESOURCE_EXHAUSTED — a message over 1 MiB (a few 1 MB strings), or a rate limit.
 * Never INTERNAL, UNKNOWN, UNAVAILABLE or DEADLINE_EXCEEDED (a hang: calls have deadlines).
 */
const grpcValid: ReadonlySet<status> = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.ALREADY_EXISTS,
  status.ABORTED,
  status.RESOURCE_EXHAUSTED,
]);

/**
 * The same for tRPC (BAD_REQUEST ⇄ INVALID_ARGUMENT, FORBIDDEN ⇄ PERMISSION_DENIED,
 * PRECONDITION_FAILED ⇄ FAILED_PRECONDITION, CONFLICT ⇄ ALREADY_EXISTS/ABORTED,
 * TOO_MANY_REQUESTS ⇄ RESOURCE_EXHAUSTED), plus the transport's own refusals of
 * bytes it cannot take: PARSE_ERROR (input that is not JSON), PAYLOAD_TOO_LARGE
 * (a body over 1 MiB), and 431 from Node for a GET whose input makes the URL
 * longer than its header limit. Never INTERNAL_SERVER_ERROR, a 5xx or a timeout.
 */
const trpcValidCodes: ReadonlySet<string> = new Set([
  'OK',
  'BAD_REQUEST',
  'NOT_FOUND',
  'FORBIDDEN',
  'PRECONDITION_FAILED',
  'CONFLICT',
  'TOO_MANY_REQUESTS',
  'PAYLOAD_TOO_LARGE',
  'PARSE_ERROR',
]);
const tooLongUrl = (outcome: TrpcOutcome): boolean =>
  outcome.code === 'HTTP_431' && outcome.urlLength > MAX_HTTP_HEADER;
const trpcValid = (outcome: TrpcOutcome): boolean =>
  trpcValidCodes.has(outcome.code) || tooLongUrl(outcome);

const grpcMethods = methodsOf(DeletionServiceService);

/** The gRPC twin of a procedure (same name), whose request message describes its input. */
const twinMessageOf = (procedure: RawProcedure) => {
  const twin = grpcMethods.find((method) => method.key === procedure.path);
  return twin === undefined ? undefined : requestMessageOf(twin.path);
};
/** Field names of every request message: the guesses for a procedure without a twin. */
const allFieldNames = [
  ...new Set(
    grpcMethods.flatMap((method) => requestMessageOf(method.path).fields.map((f) => f.jsonName)),
  ),
];
const idKeyOf = (key: string): boolean =>
  key === 'name' || key === 'deletionRequest' || key.endsWith('Id') || key.endsWith('Ids');

/** Bytes no request message decodes from. */
const undecodable = {
  'wire type 7': Buffer.from([0x0f]),
  'varint without end': Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  'length past the end': Buffer.from([0x0a, 0x05, 0x61]),
  'wire type 6 after a field': Buffer.from([0x08, 0x01, 0x16]),
};

// Thousands of real calls: generous for a loaded machine (about a minute on an idle one).
/** Callers whose credentials are missing, or junk in either header. */
const noValidCredentials = fc.oneof(
  fc.constant({}),
  fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((junk) => ({ authorization: `Bearer ${junk}` })),
  fc.stringMatching(/^[\x21-\x7e]{1,80}$/).map((junk) => ({ 'x-api-key': junk })),
);

/** The two authenticated callers every property tries. */
const callerNames = ['everyScope', 'self'] as const;

describe('fuzzing every RPC and procedure', { timeout: 150_000 }, () => {
  let t: TestApp;
  let grpc: RawGrpcClient;
  let real: RealIds;
  let callers: FuzzTarget['callers'];
  let expectNothingWritten: FuzzTarget['expectNothingWritten'];
  let procedures: RawProcedure[];

  const expectGrpcValid = (outcome: RawOutcome, label: string): void => {
    expect(
      grpcValid.has(outcome.code),
      `${label}: ${status[outcome.code]} ${outcome.details}`,
    ).toBe(true);
  };

  beforeAll(async () => {
    t = await startTestApp(FUZZ_ENV);
    grpc = createRawGrpcClient(`127.0.0.1:${String(t.ports.grpc)}`);
    ({ real, callers, expectNothingWritten } = await seedFuzzTarget(t));
    procedures = proceduresOf(createDeletionRouter(t.app.service));
  });
  afterAll(async () => {
    grpc.close();
    await t[Symbol.asyncDispose]();
  });

  describe('gRPC', () => {
    it('answers bytes that are not a message of the method with INVALID_ARGUMENT, not INTERNAL', async () => {
      for (const method of grpcMethods) {
        for (const [what, body] of Object.entries(undecodable)) {
          const answered = await grpc.call(method, body, callers.everyScope);
          expect(answered.code, `${method.key}, ${what}`).toBe(status.INVALID_ARGUMENT);
          const anonymous = await grpc.call(method, body, {});
          expect(anonymous.code, `${method.key}, ${what}`).toBe(status.UNAUTHENTICATED);
        }
      }
      await expectNothingWritten('undecodable');
    });

    it('answers random messages of every method validly, writing nothing', async () => {
      for (const method of grpcMethods) {
        const message = requestMessageOf(method.path);
        await fc.assert(
          fc.asyncProperty(
            fc.constant(method.key),
            fc.constantFrom(...callerNames),
            fc.oneof(
              { arbitrary: encodedMessage(message, wildWords(real)), weight: 3 },
              { arbitrary: encodedMessage(message, plausibleWords(real)), weight: 1 },
              { arbitrary: garbledBytes(message, wildWords(real)), weight: 2 },
            ),
            async (key, caller, body) => {
              expectGrpcValid(await grpc.call(method, body, callers[caller]), key);
              await expectNothingWritten(key);
            },
          ),
          runs(25),
        );
      }
    });

    it('answers well-formed calls about the seeded request validly, changing nothing', async () => {
      for (const method of grpcMethods) {
        const message = requestMessageOf(method.path);
        await fc.assert(
          fc.asyncProperty(
            fc.constant(method.key),
            fc.constantFrom(...callerNames),
            encodedMessage(message, seededWords(real)),
            async (key, caller, body) => {
              expectGrpcValid(await grpc.call(method, body, callers[caller]), key);
              await expectNothingWritten(key);
            },
          ),
          runs(12),
        );
      }
    });

    it('refuses operator objects and malformed ids in id fields with INVALID_ARGUMENT', async () => {
      for (const method of grpcMethods) {
        const message = requestMessageOf(method.path);
        const idFields = idFieldsOf(message);
        if (idFields.length === 0) continue;
        const withBadId = fc
          .tuple(
            messageInit(message, wildWords(real)),
            fc.constantFrom(...idFields),
            fc.constantFrom(...malformedIds(real)),
          )
          .map(([init, field, id]) =>
            encode(message, {
              ...init,
              [field.localName]: field.fieldKind === 'list' ? [id] : id,
            }),
          )
          // Several 1 MB strings make a message over the limit: RESOURCE_EXHAUSTED, tested below.
          .filter((body) => body.length < MiB);
        await fc.assert(
          fc.asyncProperty(fc.constant(method.key), withBadId, async (key, body) => {
            const outcome = await grpc.call(method, body, callers.everyScope);
            expect(outcome.code, `${key}: ${outcome.details}`).toBe(status.INVALID_ARGUMENT);
          }),
          runs(15),
        );
      }
      await expectNothingWritten('malformed ids');
    });

    it('answers callers without valid credentials UNAUTHENTICATED, whatever they send', async () => {
      for (const method of grpcMethods) {
        const message = requestMessageOf(method.path);
        await fc.assert(
          fc.asyncProperty(
            fc.constant(method.key),
            noValidCredentials,
            fc.oneof(
              encodedMessage(message, plausibleWords(real)),
              garbledBytes(message, wildWords(real)),
            ),
            async (key, auth, body) => {
              const outcome = await grpc.call(method, body, auth);
              if (body.length > MiB) expect(outcome.code, key).toBe(status.RESOURCE_EXHAUSTED);
              else expect(outcome.code, `${key}: ${outcome.details}`).toBe(status.UNAUTHENTICATED);
            },
          ),
          runs(10),
        );
      }
      await expectNothingWritten('no credentials');
    });

    it('answers garbage to the other services it serves without a fault', async () => {
      // grpc-js lists what it serves only in a private map; its paths and stream shapes.
      const served = (t.app.grpc.server as unknown as { handlers: Map<string, { type: string }> })
        .handlers;
      const others = [...served]
        .filter(([path]) => !grpcMethods.some((method) => method.path === path))
        // grpc-health-check decodes in the library: garbage to it is INTERNAL (left alone).
        .filter(([path]) => !path.startsWith('/grpc.health.v1.Health/'))
        .map(([path, { type }]) => ({
          key: path,
          path,
          requestStream: type === 'clientStream' || type === 'bidi',
          responseStream: type === 'serverStream' || type === 'bidi',
        }));
      expect(others.map((method) => method.path)).toContain(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      );
      for (const method of others) {
        await fc.assert(
          fc.asyncProperty(
            fc.constant(method.path),
            fc.uint8Array({ maxLength: 128 }).map((bytes) => Buffer.from(bytes)),
            async (path, body) => {
              expectGrpcValid(await grpc.call(method, body, {}), path);
            },
          ),
          runs(15),
        );
      }
      await expectNothingWritten('other services');
    });

    it('refuses a message over 1 MiB to every method with RESOURCE_EXHAUSTED', async () => {
      // An unknown length-delimited field: a valid encoding of every message type.
      const oversized = Buffer.from(
        new BinaryWriter().tag(1023, WireType.LengthDelimited).bytes(new Uint8Array(MiB)).finish(),
      );
      for (const method of grpcMethods) {
        const outcome = await grpc.call(method, oversized, callers.everyScope);
        expect(outcome.code, method.key).toBe(status.RESOURCE_EXHAUSTED);
      }
      await expectNothingWritten('oversized');
    });
  });
  describe('tRPC', () => {
    const call = (procedure: RawProcedure, input: string | undefined, headers: RawCredentials) =>
      callTrpc(t.trpcUrl, { procedure, input, headers });

    /** Input text for a procedure: shaped like its gRPC twin's request, any JSON, or not JSON. */
    const inputOf = (procedure: RawProcedure): fc.Arbitrary<string | undefined> => {
      const message = twinMessageOf(procedure);
      const shaped = (words: Words) =>
        message === undefined ? looseEntriesOf(allFieldNames, real) : entriesOf(message, words);
      return fc.oneof(
        { arbitrary: shaped(wildWords(real)).map(objectText), weight: 3 },
        { arbitrary: shaped(plausibleWords(real)).map(objectText), weight: 1 },
        { arbitrary: jsonText(real), weight: 2 },
        { arbitrary: fc.string(), weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      );
    };

    it('answers random input to every procedure validly, writing nothing', async () => {
      const prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
      for (const procedure of procedures) {
        await fc.assert(
          fc.asyncProperty(
            fc.constant(procedure.path),
            fc.constantFrom(...callerNames),
            inputOf(procedure),
            async (path, caller, input) => {
              const outcome = await call(procedure, input, callers[caller]);
              expect(
                trpcValid(outcome),
                `${path}: ${outcome.code} (${String(outcome.status)})`,
              ).toBe(true);
              await expectNothingWritten(path);
            },
          ),
          runs(25),
        );
      }
      // `__proto__` and `constructor` keys polluted nothing in this process (the server's).
      expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeBefore);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers well-formed calls about the seeded request validly, changing nothing', async () => {
      for (const procedure of procedures) {
        const message = twinMessageOf(procedure);
        // Without a twin, only the resource name (AIP-122) can be about the seeded request.
        const seeded =
          message === undefined
            ? fc
                .constantFrom(...real.names)
                .map((name) => objectText([['name', JSON.stringify(name)]]))
            : entriesOf(message, seededWords(real)).map(objectText);
        await fc.assert(
          fc.asyncProperty(
            fc.constant(procedure.path),
            fc.constantFrom(...callerNames),
            seeded,
            async (path, caller, input) => {
              const outcome = await call(procedure, input, callers[caller]);
              expect(trpcValid(outcome), `${path}: ${outcome.code}`).toBe(true);
              await expectNothingWritten(path);
            },
          ),
          runs(12),
        );
      }
    });

    it('refuses operator objects and malformed ids in id fields with BAD_REQUEST', async () => {
      for (const procedure of procedures) {
        const message = twinMessageOf(procedure);
        const keys = message === undefined ? allFieldNames : message.fields.map((f) => f.jsonName);
        const idKeys = keys.filter(idKeyOf);
        if (idKeys.length === 0) continue;
        const shaped =
          message === undefined
            ? looseEntriesOf(allFieldNames, real)
            : entriesOf(message, wildWords(real));
        const withBadId = fc
          .tuple(shaped, fc.constantFrom(...idKeys), malformedIdText(real))
          .map(([entries, key, id]) =>
            objectText([
              ...entries.filter(([k]) => k !== key),
              [key, key.endsWith('Ids') ? `[${id}]` : id],
            ]),
          );
        await fc.assert(
          fc.asyncProperty(fc.constant(procedure.path), withBadId, async (path, input) => {
            const outcome = await call(procedure, input, callers.everyScope);
            const refused =
              outcome.code === 'BAD_REQUEST' ||
              tooLongUrl(outcome) ||
              (outcome.code === 'PAYLOAD_TOO_LARGE' && input.length > MiB);
            expect(refused, `${path}: ${outcome.code}`).toBe(true);
          }),
          runs(15),
        );
      }
      await expectNothingWritten('malformed ids');
    });

    it('answers callers without valid credentials UNAUTHORIZED, whatever they send', async () => {
      for (const procedure of procedures) {
        await fc.assert(
          fc.asyncProperty(
            fc.constant(procedure.path),
            noValidCredentials,
            inputOf(procedure),
            async (path, auth, input) => {
              const outcome = await call(procedure, input, auth);
              // The transport refuses what it cannot parse before anyone is authenticated.
              const transport = ['PARSE_ERROR', 'PAYLOAD_TOO_LARGE'].includes(outcome.code);
              const refused = outcome.code === 'UNAUTHORIZED' || transport || tooLongUrl(outcome);
              expect(refused, `${path}: ${outcome.code}`).toBe(true);
            },
          ),
          runs(10),
        );
      }
      await expectNothingWritten('no credentials');
    });

    it('refuses input over the limits to every procedure: 413 for bodies, 431 for URLs', async () => {
      const huge = JSON.stringify({ name: 'x'.repeat(MiB) });
      for (const procedure of procedures) {
        const outcome = await call(procedure, huge, callers.everyScope);
        if (procedure.type === 'mutation') {
          expect([outcome.status, outcome.code], procedure.path).toEqual([
            413,
            'PAYLOAD_TOO_LARGE',
          ]);
        } else {
          expect(outcome.status, procedure.path).toBe(431);
        }
      }
      // A batch of every mutation, each small, together over 1 MiB.
      const mutations = procedures.filter((procedure) => procedure.type === 'mutation');
      const part = JSON.stringify({ name: 'x'.repeat(Math.ceil(MiB / mutations.length)) });
      const batch = await fetch(`${t.trpcUrl}/${mutations.map((m) => m.path).join(',')}?batch=1`, {
        method: 'POST',
        headers: { ...callers.everyScope, 'content-type': 'application/json' },
        body: objectText(mutations.map((_, index) => [String(index), part])),
      });
      expect(batch.status).toBe(413);
      await expectNothingWritten('oversized');
    });
  });
});
