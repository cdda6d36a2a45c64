import {
  create,
  createFileRegistry,
  fromBinary,
  ScalarType,
  toBinary,
  type DescField,
  type DescMessage,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { descriptorSetBase64 } from '../../src/gen/descriptor-set.js';

/** Real data some random inputs name: names of requests and subject ids. */
export interface RealIds {
  readonly names: readonly string[];
  readonly subjectIds: readonly string[];
}

/** The 1 MB of a "1 MB string": under the 1 MiB message limit, so it reaches validation. */
export const ONE_MB = 1_000_000;

/** MongoDB query operators as text, where a field takes a string. */
export const operatorTexts = [
  '{"$ne":null}',
  '{"$gt":""}',
  '{"$where":"sleep(100) || true"}',
  '{"$regex":".*"}',
  '{"$in":[]}',
  '$ne',
  '$where',
] as const;

/**
 * Strings no id field accepts (a request name, a subject id, a request id):
 * operators, path tricks, control characters, look-alikes of a real name, 1 MB.
 */
export const malformedIds = (real: RealIds): string[] => {
  const name = real.names[0] ?? 'deletionRequests/x';
  return [
    ...operatorTexts,
    'deletionRequests/../x',
    'deletionRequests/',
    'deletionRequests/{"$ne":null}',
    '../../etc/passwd',
    'deletionRequests/%2e%2e',
    'deletionRequests/A',
    'a\u0000b',
    `${name}/..`,
    `${name}\u0000`,
    ` ${name}`,
    name.toUpperCase(),
    '\u{1F600}'.repeat(200),
    'x'.repeat(ONE_MB),
  ];
};

/** Well-formed tokens only: the real ids most, empty (unset), a code, a request id, a word. */
export const plausibleString = (real: RealIds): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...real.names, ...real.subjectIds), weight: 3 },
    { arbitrary: fc.constant(''), weight: 3 },
    { arbitrary: fc.stringMatching(/^[0-9]{6}$/), weight: 3 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: fc.stringMatching(/^[a-z][a-z0-9 -]{0,20}$/), weight: 1 },
  );

/** Any string a caller could send, biased to ones that hit real data or break parsers. */
export const nastyString = (real: RealIds): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: plausibleString(real), weight: 3 },
    { arbitrary: fc.string(), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
    { arbitrary: fc.constantFrom(...malformedIds(real)), weight: 2 },
    { arbitrary: fc.uuid().map((id) => `deletionRequests/${id}`), weight: 1 },
    { arbitrary: fc.stringMatching(/^[0-9]{1,10}$/), weight: 1 },
    {
      arbitrary: fc.constantFrom('', ' ', 'null', '0', '-1', '__proto__', 'constructor', 'ü'),
      weight: 1,
    },
  );

/**
 * Where the strings of generated input come from: anything a caller could send
 * (`wild`), or well-formed tokens only, so that whole inputs pass validation
 * now and then and reach the use cases and the seeded data.
 */
export interface Words {
  readonly real: RealIds;
  readonly strings: fc.Arbitrary<string>;
  readonly wild: boolean;
  /** Strings for fields of this (proto) name instead of `strings`. */
  readonly byField?: Readonly<Record<string, fc.Arbitrary<string>>>;
}
export const wildWords = (real: RealIds): Words => ({
  real,
  strings: nastyString(real),
  wild: true,
});
export const plausibleWords = (real: RealIds): Words => ({
  real,
  strings: plausibleString(real),
  wild: false,
});
/** Well-formed tokens, and the `name` (AIP-122) of a seeded request: calls about real data. */
export const seededWords = (real: RealIds): Words => ({
  ...plausibleWords(real),
  byField: { name: fc.constantFrom(...real.names) },
});

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, 'base64')),
);

/** The request message of `/package.Service/Method`, from the build's descriptor set. */
export const requestMessageOf = (path: string): DescMessage => {
  const [, serviceName = '', methodName = ''] = path.split('/');
  const method = registry.getService(serviceName)?.methods.find((m) => m.name === methodName);
  if (method === undefined) throw new Error(`${path} is not in the descriptor set`);
  return method.input;
};

const INT64 = 2n ** 63n;
const UINT64 = 2n ** 64n;

const scalarArbitrary = (
  scalar: ScalarType,
  words: Words,
  longAsString: boolean,
): fc.Arbitrary<unknown> => {
  const long = (min: bigint, max: bigint) =>
    fc
      .oneof(fc.bigInt({ min, max }), fc.constantFrom(min, max, 0n, -1n < min ? 0n : -1n))
      .map((value) => (longAsString ? value.toString() : value));
  switch (scalar) {
    case ScalarType.STRING:
      return words.strings;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return long(-INT64, INT64 - 1n);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return long(0n, UINT64 - 1n);
  }
};

const enumArbitrary = (values: readonly number[]): fc.Arbitrary<number> =>
  // Proto3 enums are open: a number the schema does not name arrives as it is.
  fc.oneof(fc.constantFrom(...values), fc.integer());

/** A random value of one field (a list, map or message field included), as `create` takes it. */
const fieldArbitrary = (field: DescField, words: Words, depth: number): fc.Arbitrary<unknown> => {
  const elementOf = (kind: {
    scalar: ScalarType | undefined;
    enum: { values: { number: number }[] } | undefined;
    message: DescMessage | undefined;
  }): fc.Arbitrary<unknown> => {
    if (kind.message) return messageInit(kind.message, words, depth + 1);
    if (kind.enum) return enumArbitrary(kind.enum.values.map((v) => v.number));
    return scalarArbitrary(kind.scalar ?? ScalarType.STRING, words, false);
  };
  const named = words.byField?.[field.name];
  switch (field.fieldKind) {
    case 'scalar':
      if (named !== undefined && field.scalar === ScalarType.STRING) return named;
      return scalarArbitrary(field.scalar, words, field.longAsString);
    case 'enum':
    case 'message':
      return elementOf(field);
    case 'list':
      return fc.array(elementOf(field), { maxLength: 4 });
    case 'map':
      return fc.dictionary(fc.string({ maxLength: 8 }), elementOf(field), { maxKeys: 3 });
  }
};

/** A random init of a message: any subset of its fields, at most one case per oneof. */
export const messageInit = (
  message: DescMessage,
  words: Words,
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> => {
  if (depth > 3) return fc.constant({});
  const fields = Object.fromEntries(
    message.fields
      .filter((field) => field.oneof === undefined)
      .map((field) => [field.localName, fieldArbitrary(field, words, depth)]),
  );
  const oneofs = Object.fromEntries(
    message.oneofs.map((oneof) => [
      oneof.localName,
      fc.oneof(
        ...oneof.fields.map((field) =>
          fieldArbitrary(field, words, depth).map((value) => ({ case: field.localName, value })),
        ),
      ),
    ]),
  );
  // Proto3 sends no unset scalar: '' and 0 stand for absent ones. Messages and oneofs may be absent.
  const requiredKeys = message.fields
    .filter((field) => field.oneof === undefined && field.fieldKind !== 'message')
    .map((field) => field.localName);
  return fc.record({ ...fields, ...oneofs }, { requiredKeys });
};

/** The fields of a message init as a counterexample shows them: long strings and bytes cut short. */
const describeInit = (init: unknown): string =>
  JSON.stringify(init, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (typeof value === 'string' && value.length > 80)
      return `${value.slice(0, 40)}… (${String(value.length)} chars)`;
    if (value instanceof Uint8Array) return `<${String(value.length)} bytes>`;
    return value;
  });

/** Bytes that print as `label` in a counterexample (not as a megabyte of numbers). */
const labelled = (bytes: Buffer, label: string): Buffer =>
  Object.defineProperty(bytes, fc.toStringMethod, { value: () => label });

/** The encoding of a message init, printed as its fields in a counterexample. */
export const encode = (message: DescMessage, init: Record<string, unknown>): Buffer =>
  labelled(Buffer.from(toBinary(message, create(message, init))), describeInit(init));

/** A well-formed encoding of a random message of this type. */
export const encodedMessage = (message: DescMessage, words: Words): fc.Arbitrary<Buffer> =>
  messageInit(message, words).map((init) => encode(message, init));

/**
 * Bytes that are mostly not a message: random, or a real encoding cut, flipped
 * or padded. A message without fields always encodes to nothing, so it has
 * nothing to cut or flip (a filter waiting for bytes would never end).
 */
export const garbledBytes = (message: DescMessage, words: Words): fc.Arbitrary<Buffer> => {
  const random = fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes));
  const padded = fc
    .tuple(encodedMessage(message, words), fc.uint8Array({ minLength: 1, maxLength: 16 }))
    .map(([bytes, tail]) =>
      labelled(
        Buffer.concat([bytes, tail]),
        `${fc.stringify(bytes)}, then bytes ${tail.join(',')}`,
      ),
    );
  if (message.fields.length === 0) return fc.oneof(random, padded);
  return fc.oneof(
    random,
    fc
      .tuple(encodedMessage(message, words), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .filter(([bytes]) => bytes.length > 0)
      .map(([bytes, at, value]) => {
        const mutated = Buffer.from(bytes);
        mutated[at % bytes.length] = value;
        const where = String(at % bytes.length);
        return labelled(mutated, `${fc.stringify(bytes)}, byte ${where} set to ${String(value)}`);
      }),
    fc
      .tuple(encodedMessage(message, words), fc.nat())
      .filter(([bytes]) => bytes.length > 1)
      .map(([bytes, at]) => {
        const length = 1 + (at % (bytes.length - 1));
        return labelled(
          bytes.subarray(0, length),
          `${fc.stringify(bytes)}, cut to ${String(length)} bytes`,
        );
      }),
    padded,
  );
};

/** The fields that name things: `name` (AIP-122), `deletion_request`, `…_id`, and lists of `…_ids`. */
export const idFieldsOf = (message: DescMessage): DescField[] =>
  message.fields.filter(
    (field) =>
      (field.fieldKind === 'scalar' &&
        field.scalar === ScalarType.STRING &&
        (field.name === 'name' ||
          field.name === 'deletion_request' ||
          field.name.endsWith('_id'))) ||
      (field.fieldKind === 'list' &&
        field.scalar === ScalarType.STRING &&
        field.name.endsWith('_ids')),
  );
