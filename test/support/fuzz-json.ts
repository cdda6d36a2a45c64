import { ScalarType, type DescField, type DescMessage, type DescOneof } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { malformedIds, nastyString, type RealIds, type Words } from './fuzz-inputs.js';

/**
 * JSON is built as text, so keys like `__proto__` reach the server as keys
 * (an object literal would set the prototype instead, and JSON.stringify drop it).
 */
export const objectText = (entries: readonly (readonly [string, string])[]): string =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/** MongoDB operator objects and prototype-pollution attempts, as JSON values. */
export const operatorObjects = [
  '{"$ne":null}',
  '{"$gt":""}',
  '{"$where":"sleep(100) || true"}',
  '{"$regex":".*"}',
  '{"$exists":true}',
  '{"$in":["a"]}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
] as const;

const oddKeys = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  '$where',
  '$ne',
  'toString',
  'hasOwnProperty',
);

const scalarText = (real: RealIds): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: nastyString(real).map((value) => JSON.stringify(value)), weight: 4 },
    { arbitrary: fc.double().map((value) => JSON.stringify(value)), weight: 1 },
    { arbitrary: fc.constantFrom('1e400', '-0', '9007199254740993', '0.5', '-1'), weight: 1 },
    { arbitrary: fc.constantFrom('null', 'true', 'false', '{}', '[]'), weight: 1 },
    { arbitrary: fc.constantFrom(...operatorObjects), weight: 2 },
  );

/** Any JSON value, as text, nested a little. */
export const jsonText = (real: RealIds): fc.Arbitrary<string> =>
  fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalarText(real),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), oddKeys), tie('value')), {
        maxLength: 4,
      })
      .map(objectText),
  })).value;

const fieldValueText = (field: DescField, words: Words, depth: number): fc.Arbitrary<string> => {
  const typed = (): fc.Arbitrary<string> => {
    if (field.fieldKind === 'message') return objectOf(field.message, words, depth + 1);
    if (field.fieldKind === 'enum')
      return fc.constantFrom(
        ...field.enum.values.flatMap(({ name, localName }) => [name, localName]),
      );
    if (field.fieldKind === 'list')
      return fc
        .array(
          field.listKind === 'message'
            ? objectOf(field.message, words, depth + 1)
            : words.strings.map((value) => JSON.stringify(value)),
          { maxLength: 3 },
        )
        .map((items) => `[${items.join(',')}]`);
    if (field.fieldKind === 'scalar' && field.scalar === ScalarType.STRING)
      return (words.byField?.[field.name] ?? words.strings).map((value) => JSON.stringify(value));
    if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BOOL)
      return fc.constantFrom('true', 'false');
    return fc.oneof(fc.integer(), fc.double()).map((value) => JSON.stringify(value));
  };
  if (!words.wild) return typed();
  return fc.oneof(
    { arbitrary: typed(), weight: 4 },
    { arbitrary: jsonText(words.real), weight: 1 },
  );
};

/** A oneof as the tRPC router takes it: `{ kind: 'CASE', ...fields of the case }`. */
const oneofText = (oneof: DescOneof, words: Words, depth: number): fc.Arbitrary<string> =>
  fc.oneof(
    ...oneof.fields.map((field) =>
      fc
        .tuple(
          words.wild
            ? fc.oneof(fc.constant(field.name.toUpperCase()), words.strings)
            : fc.constant(field.name.toUpperCase()),
          field.message ? entriesOf(field.message, words, depth + 1) : fc.constant([]),
        )
        .map(([kind, entries]) => objectText([['kind', JSON.stringify(kind)], ...entries])),
    ),
  );

/**
 * Any subset of the message's fields (JSON names), values of the right type
 * mostly, sometimes any JSON, and now and then odd extra keys.
 */
export const entriesOf = (
  message: DescMessage,
  words: Words,
  depth = 0,
): fc.Arbitrary<(readonly [string, string])[]> => {
  if (depth > 3) return fc.constant([]);
  const members: [string, fc.Arbitrary<string>][] = [
    ...message.fields
      .filter((field) => field.oneof === undefined)
      .map((field): [string, fc.Arbitrary<string>] => [
        field.jsonName,
        fieldValueText(field, words, depth),
      ]),
    ...message.oneofs.map((oneof): [string, fc.Arbitrary<string>] => [
      oneof.localName,
      oneofText(oneof, words, depth),
    ]),
  ];
  return fc
    .tuple(
      fc.record(Object.fromEntries(members), { requiredKeys: [] }),
      fc.array(fc.tuple(oddKeys, jsonText(words.real)), { maxLength: words.wild ? 2 : 0 }),
    )
    .map(([fields, extra]) => [
      ...Object.entries(fields).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
      ...extra,
    ]);
};

/** An object shaped like the message (see `entriesOf`), as JSON text. */
export const objectOf = (message: DescMessage, words: Words, depth = 0): fc.Arbitrary<string> =>
  entriesOf(message, words, depth).map(objectText);

/** Any subset of `keys`, each with any JSON value: for inputs no message describes. */
export const looseEntriesOf = (
  keys: readonly string[],
  real: RealIds,
): fc.Arbitrary<(readonly [string, string])[]> =>
  fc
    .subarray([...keys])
    .chain((present) =>
      fc.tuple(...present.map((key) => jsonText(real).map((value) => [key, value] as const))),
    );

/** An id the id fields refuse: an operator object, another type, or a malformed string. */
export const malformedIdText = (real: RealIds): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...operatorObjects),
    fc.constantFrom(...malformedIds(real)).map((value) => JSON.stringify(value)),
    fc.constantFrom(
      'null',
      '0',
      'true',
      '{}',
      '[]',
      ...real.names.map((name) => `[${JSON.stringify(name)}]`),
      ...real.names.map((name) => `{"name":${JSON.stringify(name)}}`),
    ),
  );
