import { z } from 'zod';
import { invalidArgument, type DomainError } from '../../domain/domain-error.js';

/** A page token: where the last page ended, and the query it belongs to (as short strings). */
type PageToken = Readonly<Record<string, string | number>>;

/** An opaque, URL-safe token (AIP-158). */
export const encodePageToken = (token: PageToken): string =>
  btoa(JSON.stringify(token)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');

/** A token that is not one of this query's. */
const badPageToken = (): DomainError =>
  invalidArgument([{ field: 'pageToken', description: 'not a token of this query' }]);

/** A time in a token: epoch milliseconds a Date can hold (±8.64e15). */
export const tokenTime = z.number().int().min(-8.64e15).max(8.64e15);
/** A sequence or count in a token. */
export const tokenCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** An id in a token. */
export const tokenId = z.string().min(1).max(128);

/**
 * Reads a token made by `encodePageToken` for the same query: every field of
 * `query` must be in it unchanged, a missing one standing for '' (a token
 * cannot carry a page over to other filters), and its position must have
 * `position`'s shape (in range: a token edited by hand must not reach the
 * database). INVALID_ARGUMENT otherwise.
 */
export const decodePageToken = <T extends z.ZodRawShape>(
  raw: string,
  query: Readonly<Record<string, string>>,
  position: T,
): z.infer<z.ZodObject<T>> => {
  let token: unknown;
  try {
    token = JSON.parse(atob(raw.replaceAll('-', '+').replaceAll('_', '/')));
  } catch {
    throw badPageToken();
  }
  if (typeof token !== 'object' || token === null) throw badPageToken();
  const fields = token as Record<string, unknown>;
  // A filter a token does not name was not set (the token is older than the filter).
  if (Object.entries(query).some(([key, value]) => (fields[key] ?? '') !== value))
    throw badPageToken();
  const parsed = z.object(position).safeParse(fields);
  if (!parsed.success) throw badPageToken();
  return parsed.data;
};
