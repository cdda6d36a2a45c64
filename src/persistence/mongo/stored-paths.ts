import type { InferRawDocType } from 'mongoose';

/** Marks a path as added later; it exists in the type only, nothing is set on the path's options. */
declare const added: unique symbol;
interface AddedLater {
  readonly [added]?: true;
}

/**
 * A path that documents written before it existed lack. Its default, if it
 * has one, fills it in only when mongoose hydrates a document: lean reads see
 * it missing, so its stored type (see `Stored`) leaves it optional.
 */
export const addedLater = <P extends object>(path: P): P & AddedLater => path;

/** Whether mongoose counts a path as always there: required, an array, or with a default other than null. */
type MongooseRequired<Inferred, K extends PropertyKey> = K extends keyof Inferred
  ? object extends Pick<Inferred, K>
    ? false
    : true
  : false;

type IsStored<Path, Inferred, K extends PropertyKey> = typeof added extends keyof Path
  ? false
  : Path extends { default: null }
    ? true
    : MongooseRequired<Inferred, K>;

/** Mongoose's type of the path; null only where `default: null` says so. */
type StoredValue<Path, Inferred, K extends PropertyKey> = K extends keyof Inferred
  ? Path extends { default: null }
    ? PlainDate<Exclude<Inferred[K], undefined>>
    : PlainDate<Exclude<Inferred[K], undefined | null>>
  : never;

/**
 * `Date` where mongoose infers its `NativeDate`: a class of its own in
 * mongoose's types (a `Date` at runtime), which lint would hold every `Date`
 * the code stores unsafe for (no-unsafe-class-instance-assignment).
 */
type PlainDate<T> = T extends Date ? Date : T;

/**
 * A document as stored and read back lean, derived from its schema's paths:
 * each path's type is what mongoose infers for it (`InferRawDocType`: enums
 * as unions, subdocuments as their schemas' types). Which paths are always
 * there, and which may hold null, follows what the repository writes and
 * reads rather than mongoose's rules for hydrated documents:
 *
 * - a path that is required or has a default (`null` too: the mapper writes
 *   every such path) is always there, unless wrapped in `addedLater`;
 * - a path without either is optional;
 * - only a path whose default is `null` holds null (mongoose would allow null
 *   in every path that is not required, but none is written).
 */
export type Stored<Paths> = Flat<
  {
    -readonly [
      K in keyof Paths as IsStored<Paths[K], InferRawDocType<Paths>, K> extends true ? K : never
    ]-?: StoredValue<Paths[K], InferRawDocType<Paths>, K>;
  } & {
    -readonly [
      K in keyof Paths as IsStored<Paths[K], InferRawDocType<Paths>, K> extends true ? never : K
    ]+?: StoredValue<Paths[K], InferRawDocType<Paths>, K>;
  }
>;

/** `T` with the types of some paths given instead: for a path whose stored type cannot be derived. */
export type Override<T, Given> = Flat<Omit<T, keyof Given> & Given>;

type Flat<T> = { [K in keyof T]: T[K] } & {};
