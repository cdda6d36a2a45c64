/** A nominal type over T. A string key, not a unique symbol, so that emitted declarations of
 * types that reach it (the tRPC client package's router types) can name it. */
type Brand<T, B extends string> = T & { readonly __brand: B };

/** The random, unguessable id of a deletion request (the `{deletion_request}` of its name). */
export type DeletionRequestId = Brand<string, 'DeletionRequestId'>;
/** The account directory's opaque id of the subject whose account is deleted. */
export type SubjectId = Brand<string, 'SubjectId'>;

const SUBJECT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const REQUEST_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Whether `value` has the shape of a subject id (1–128 of `[A-Za-z0-9._:@-]`). */
export const isSubjectId = (value: string): value is SubjectId => SUBJECT_ID.test(value);
/** Whether `value` has the shape of a deletion request id. */
export const isDeletionRequestId = (value: string): value is DeletionRequestId =>
  REQUEST_ID.test(value);

/** Resource name of a request (AIP-122). */
export const deletionRequestName = (id: DeletionRequestId): string => `deletionRequests/${id}`;

/** Parses `deletionRequests/{id}`; undefined when the name is malformed. */
export const parseDeletionRequestName = (name: string): DeletionRequestId | undefined => {
  const prefix = 'deletionRequests/';
  if (!name.startsWith(prefix)) return undefined;
  const id = name.slice(prefix.length);
  return isDeletionRequestId(id) ? id : undefined;
};
