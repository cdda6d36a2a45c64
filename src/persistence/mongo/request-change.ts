import { isDeepStrictEqual } from 'node:util';
import type { DeletionRequestDocument } from './deletion-request-model.js';

/**
 * The update that turns one stored version of a request into the next: the
 * top-level fields that changed (`$set`), the lists that only grew (`$push`
 * of the new entries: the history, the sent notices) and the fields that went
 * away (`$unset`). Linked services' steps are set one by one. Mongoose then
 * casts and validates only what changed, and the server receives only that.
 */
export interface RequestChange {
  readonly $set: Record<string, unknown>;
  readonly $push: Record<string, { $each: unknown[] }>;
  readonly $unset: Record<string, ''>;
}

/** A key that is safe as one segment of a dotted path (no dot, no `$`). */
const PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** The entries `after` adds to `before`, when `before` is its prefix; null otherwise. */
const appended = (before: unknown, after: unknown): unknown[] | null => {
  if (!Array.isArray(before) || !Array.isArray(after) || after.length <= before.length) return null;
  const prefix = before.every((entry: unknown, index) => isDeepStrictEqual(entry, after[index]));
  return prefix ? after.slice(before.length) : null;
};

/** The changed entries of a map, as `field.key` paths; null when one went away or a key is unsafe. */
const changedEntries = (
  field: string,
  before: unknown,
  after: unknown,
): Record<string, unknown> | null => {
  if (!isRecord(before) || !isRecord(after)) return null;
  const keys = Object.keys(after);
  if (!keys.every((key) => PATH_SEGMENT.test(key))) return null;
  if (!Object.keys(before).every((key) => key in after)) return null;
  return Object.fromEntries(
    keys
      .filter((key) => !isDeepStrictEqual(before[key], after[key]))
      .map((key) => [`${field}.${key}`, after[key]]),
  );
};

/**
 * Fields always set whole: the audit marks are raised by the repository on
 * top of what a use case wrote, so the version a use case names as the one
 * before may not show them, and a push after it would repeat an entry.
 */
const WHOLE_FIELDS: ReadonlySet<string> = new Set(['auditedAnswers', 'auditedAlerts']);

/** Fields stored as maps whose entries change one at a time. */
const MAP_FIELDS: ReadonlySet<string> = new Set(['participants']);

/** What to send so that a document holding `before` holds `after` (the `_id` never changes). */
export const changeOf = (
  before: DeletionRequestDocument,
  after: DeletionRequestDocument,
): RequestChange => {
  const change: RequestChange = { $set: {}, $push: {}, $unset: {} };
  const was = before as unknown as Record<string, unknown>;
  const now = after as unknown as Record<string, unknown>;
  for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (field === '_id' || isDeepStrictEqual(was[field], now[field])) continue;
    if (now[field] === undefined) {
      change.$unset[field] = '';
      continue;
    }
    const pushed = WHOLE_FIELDS.has(field) ? null : appended(was[field], now[field]);
    if (pushed !== null) {
      change.$push[field] = { $each: pushed };
      continue;
    }
    const entries = MAP_FIELDS.has(field) ? changedEntries(field, was[field], now[field]) : null;
    Object.assign(change.$set, entries ?? { [field]: now[field] });
  }
  return change;
};

/** The change as an update document, without its empty operators (the server refuses those). */
export const updateOf = (change: RequestChange): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(change as unknown as Record<string, object>).filter(
      ([, fields]) => Object.keys(fields).length > 0,
    ),
  );
