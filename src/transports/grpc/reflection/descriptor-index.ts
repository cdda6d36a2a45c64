import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** One file of a FileDescriptorSet: its encoded bytes and what it declares. */
export interface IndexedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dependencies: readonly string[];
  readonly symbols: readonly string[];
  readonly services: readonly string[];
}

/** Reads the length-delimited fields of one message: field number → raw values. */
const fields = (bytes: Uint8Array): Map<number, Uint8Array[]> => {
  const reader = new BinaryReader(bytes);
  const found = new Map<number, Uint8Array[]>();
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    const list = found.get(field) ?? [];
    list.push(reader.bytes());
    found.set(field, list);
  }
  return found;
};

const text = (value: Uint8Array | undefined): string => new TextDecoder().decode(value);
const names = (message: Map<number, Uint8Array[]>, field: number): Map<number, Uint8Array[]>[] =>
  (message.get(field) ?? []).map(fields);

/** Fully-qualified names of a message and everything nested in it (DescriptorProto 1, 3, 4). */
const messageSymbols = (message: Map<number, Uint8Array[]>, scope: string): string[] => {
  const name = `${scope}${text(message.get(1)?.[0])}`;
  return [
    name,
    ...names(message, 3).flatMap((nested) => messageSymbols(nested, `${name}.`)),
    ...names(message, 4).map((nested) => `${name}.${text(nested.get(1)?.[0])}`),
  ];
};

/** Indexes one FileDescriptorProto (name 1, package 2, dependency 3, message 4, enum 5, service 6). */
const indexFile = (bytes: Uint8Array): IndexedFile => {
  const file = fields(bytes);
  const pkg = text(file.get(2)?.[0]);
  const scope = pkg === '' ? '' : `${pkg}.`;
  const services = names(file, 6).map((service) => ({
    name: `${scope}${text(service.get(1)?.[0])}`,
    methods: names(service, 2).map((method) => text(method.get(1)?.[0])),
  }));
  return {
    name: text(file.get(1)?.[0]),
    bytes,
    dependencies: (file.get(3) ?? []).map(text),
    services: services.map((service) => service.name),
    symbols: [
      ...names(file, 4).flatMap((message) => messageSymbols(message, scope)),
      ...names(file, 5).map((enumType) => `${scope}${text(enumType.get(1)?.[0])}`),
      ...services.flatMap((service) => [
        service.name,
        ...service.methods.map((method) => `${service.name}.${method}`),
      ]),
    ],
  };
};

/** Looks files up by name or by a symbol they declare, with their transitive imports. */
export interface DescriptorIndex {
  readonly services: readonly string[];
  fileByName(name: string): Uint8Array[] | undefined;
  fileContainingSymbol(symbol: string): Uint8Array[] | undefined;
}

/** What a server serves, and the files every answer about its services comes with. */
export interface ServedSchema {
  /** The services the server serves (fully qualified): the only ones listed. */
  readonly services: readonly string[];
  /**
   * Files sent along with every file a client asks for: the `google.rpc`
   * error details each RPC may answer with, which no served file imports,
   * so that `buf curl` and grpcurl can decode them.
   */
  readonly companions: readonly string[];
}

/** Indexes an encoded FileDescriptorSet (its field 1 holds the files) for the services a server serves. */
export const createDescriptorIndex = (
  descriptorSet: Uint8Array,
  served: ServedSchema,
): DescriptorIndex => {
  const files = (fields(descriptorSet).get(1) ?? []).map(indexFile);
  const byName = new Map(files.map((file) => [file.name, file]));
  const bySymbol = new Map(
    files.flatMap((file) => file.symbols.map((symbol) => [symbol, file] as const)),
  );
  const withImports = (file: IndexedFile): Uint8Array[] => {
    const seen = new Set<string>();
    const visit = (current: IndexedFile): IndexedFile[] => {
      if (seen.has(current.name)) return [];
      seen.add(current.name);
      return [
        current,
        ...current.dependencies.flatMap((dep) => {
          const found = byName.get(dep);
          return found ? visit(found) : [];
        }),
      ];
    };
    const companions = served.companions.flatMap((name) => {
      const found = byName.get(name);
      return found ? visit(found) : [];
    });
    return [...visit(file), ...companions].map((found) => found.bytes);
  };
  const present = new Set(files.flatMap((file) => file.services));
  return {
    services: served.services.filter((name) => present.has(name)),
    fileByName: (name) => {
      const file = byName.get(name);
      return file && withImports(file);
    },
    fileContainingSymbol: (symbol) => {
      const file = bySymbol.get(symbol.replace(/^\./, ''));
      return file && withImports(file);
    },
  };
};
