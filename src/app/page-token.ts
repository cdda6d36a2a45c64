import { invalidArgument, type DomainError } from '../domain/domain-error.js';

/** A page token: where the last page ended, and the query it belongs to (as short strings). */
type PageToken = Readonly<Record<string, string | number>>;

/** An opaque, URL-safe token (AIP-158). */
export const encodePageToken = (token: PageToken): string =>
  btoa(JSON.stringify(token)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');

/** A token that is not one of this query's. */
export const badPageToken = (): DomainError =>
  invalidArgument([{ field: 'pageToken', description: 'not a token of this query' }]);

/**
 * Reads a token made by `encodePageToken` for the same query: every field of
 * `query` must be in it unchanged (a token cannot carry a page over to other
 * filters). INVALID_ARGUMENT otherwise.
 */
export const decodePageToken = (
  raw: string,
  query: Readonly<Record<string, string>>,
): Readonly<Record<string, unknown>> => {
  let token: unknown;
  try {
    token = JSON.parse(atob(raw.replaceAll('-', '+').replaceAll('_', '/')));
  } catch {
    throw badPageToken();
  }
  if (typeof token !== 'object' || token === null) throw badPageToken();
  const fields = token as Record<string, unknown>;
  if (Object.entries(query).some(([key, value]) => fields[key] !== value)) throw badPageToken();
  return fields;
};
