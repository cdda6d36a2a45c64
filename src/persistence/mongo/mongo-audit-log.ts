import type { Connection, mongo } from 'mongoose';
import type { AuditLog, AuditSeal } from '../../app/ports.js';
import { persistenceSpan } from '../../app/telemetry-catalogue.js';
import {
  chainedContent,
  GENESIS_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditFilter,
  type AuditKind,
} from '../../domain/audit-event.js';
import type { Actor } from '../../domain/principal.js';
import { DomainError } from '../../domain/domain-error.js';
import { groupCommit } from '../../app/group-commit.js';
import { isDuplicateKey, mongoCall } from './classify-mongo-error.js';

export const AUDIT_EVENTS = 'audit_events';
const AUDIT_HEAD = 'audit_head';

/** An event as stored: its sequence is the `_id`, so no two events can hold one. */
interface AuditEventDocument {
  _id: number;
  key: string;
  kind: AuditKind;
  at: Date;
  actor: Actor;
  deletionRequestId: string | null;
  subjectPseudonym: string | null;
  sealedDetails: string;
  previousHash: string;
  hash: string;
}

/** The highest sequence a writer has seen written: a hint where to look for the end. */
interface AuditHeadDocument {
  _id: 'head';
  sequence: number;
}

/** Unique: an entry is appended once, whoever retries it. */
export const auditEventIndexes = [{ key: { key: 1 }, name: 'audit_key', unique: true }] as const;

const toEvent = ({ _id, ...rest }: AuditEventDocument): AuditEvent => ({ sequence: _id, ...rest });

/** The query of a listing: only the filters given, each an exact match (no operator from input). */
const listQuery = (filter: AuditFilter, after: number): mongo.Filter<AuditEventDocument> => ({
  _id: { $gt: after },
  ...(filter.kind !== undefined && { kind: filter.kind }),
  ...(filter.deletionRequestId !== undefined && { deletionRequestId: filter.deletionRequestId }),
  ...(filter.subjectPseudonym !== undefined && { subjectPseudonym: filter.subjectPseudonym }),
  ...((filter.from !== undefined || filter.until !== undefined) && {
    at: {
      ...(filter.from !== undefined && { $gte: filter.from }),
      ...(filter.until !== undefined && { $lt: filter.until }),
    },
  }),
});

/** Racing appenders take turns; this many lost turns in a row means something is wrong. */
const MAX_TURNS = 200;
/** Entries appended with one insert at most. */
const MAX_GROUP = 100;

/** An entry to append, its details sealed. */
interface Pending {
  readonly entry: AuditEntry;
  readonly sealedDetails: string;
}

/**
 * Runs an ordered insert: undefined when every document went in, else how
 * many did before a unique index refused one.
 */
const insertedBefore = async (insert: () => Promise<unknown>): Promise<number | undefined> => {
  try {
    await insert();
    return undefined;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const { writeErrors } = error as { writeErrors?: { index: number } | { index: number }[] };
    const first = Array.isArray(writeErrors) ? writeErrors[0] : writeErrors;
    return first?.index ?? 0;
  }
};

/**
 * The audit log in MongoDB (or FerretDB). An append claims the next sequence
 * by inserting the event with `_id` = sequence: the unique `_id` lets exactly
 * one writer have each place, on both servers and across replicas, so the
 * chain never forks. A replica appends what arrives together in one insert.
 * The end is found from a head hint plus reads by `_id`
 * (the only lookups FerretDB 1.x answers from an index).
 */
export const createMongoAuditLog = (conn: Connection, seal: AuditSeal): AuditLog => {
  const events = conn.collection<AuditEventDocument>(AUDIT_EVENTS);
  const heads = conn.collection<AuditHeadDocument>(AUDIT_HEAD);
  const hint = async (): Promise<number> => (await heads.findOne({ _id: 'head' }))?.sequence ?? 0;
  /** The end this process last saw: where the next search starts (events are never removed). */
  let known: { sequence: number; hash: string } | undefined;
  /**
   * Where to append: the end this replica saw last, else the hint's event.
   * Either may be behind; an insert after it then fails, and the append
   * moves on to the event that took the place. Only events known to exist
   * are read (a server without an index for `_id`, FerretDB 1.x, scans the
   * whole log to say one does not).
   */
  const start = async (): Promise<{ sequence: number; hash: string }> => {
    if (known !== undefined) return known;
    const sequence = await hint();
    const hash = sequence === 0 ? GENESIS_HASH : (await events.findOne({ _id: sequence }))?.hash;
    if (hash === undefined) {
      throw new DomainError({
        code: 'INTERNAL',
        reason: 'AUDIT_LOG_BROKEN',
        message: 'the audit log is missing events it recorded',
      });
    }
    return { sequence, hash };
  };
  /** The entries chained on after `end`: each names the hash of the one before. */
  const chainAfter = (
    end: { sequence: number; hash: string },
    pending: readonly Pending[],
  ): AuditEventDocument[] => {
    let previous = end;
    return pending.map(({ entry, sealedDetails }) => {
      const content = {
        sequence: previous.sequence + 1,
        key: entry.key,
        kind: entry.kind,
        at: entry.at,
        actor: { kind: entry.actor.kind, id: entry.actor.id },
        deletionRequestId: entry.deletionRequestId,
        subjectPseudonym: entry.subjectPseudonym,
        sealedDetails,
        previousHash: previous.hash,
      };
      const { sequence, ...stored } = content;
      const hash = seal.mac(chainedContent(content));
      previous = { sequence, hash };
      return { _id: sequence, ...stored, hash };
    });
  };
  /**
   * Appends entries in order with one ordered insert. The server stops at the
   * first refusal: the entries before it are in; if its place is still free,
   * the refused entry's key is in the log already (a repeat: dropped), else
   * another writer took the place and the rest is chained on after that one.
   */
  const appendAll = async (entries: readonly AuditEntry[]): Promise<void> => {
    let pending: Pending[] = entries.map((entry) => ({
      entry,
      sealedDetails: seal.seal(entry.details),
    }));
    let end = await start();
    const ended = end.sequence;
    for (let turn = 0; turn < MAX_TURNS && pending.length > 0; turn += 1) {
      const docs = chainAfter(end, pending);
      const inserted = await insertedBefore(() => events.insertMany(docs, { ordered: true }));
      const last = docs[(inserted ?? docs.length) - 1];
      if (last !== undefined) end = known = { sequence: last._id, hash: last.hash };
      if (inserted === undefined) {
        pending = [];
        break;
      }
      pending = pending.slice(inserted);
      const taken = await events.findOne({ _id: end.sequence + 1 }, { projection: { hash: 1 } });
      if (taken === null) pending = pending.slice(1);
      else end = known = { sequence: end.sequence + 1, hash: taken.hash };
    }
    if (pending.length > 0)
      throw new DomainError({
        code: 'ABORTED',
        reason: 'AUDIT_CONTENDED',
        message: 'the audit log is too busy to append; retry',
      });
    // Best effort: a lagging hint costs a few reads, never a wrong chain.
    if (end.sequence > ended)
      await heads.updateOne(
        { _id: 'head' },
        { $max: { sequence: end.sequence } },
        { upsert: true },
      );
  };
  /**
   * Appends of one replica go in groups: those that arrive while one group is
   * being written go together in the next (one insert and one hint update per
   * group); each caller's promise settles with its group.
   */
  const appendInGroups = groupCommit(appendAll, MAX_GROUP);
  return {
    append: (entry) =>
      mongoCall(persistenceSpan('audit_events', 'append'), {}, () => appendInGroups(entry)),
    read: (after, limit) =>
      mongoCall(persistenceSpan('audit_events', 'read'), {}, async () =>
        (
          await events
            .find({ _id: { $gt: after } })
            .sort({ _id: 1 })
            .limit(limit)
            .toArray()
        ).map(toEvent),
      ),
    head: () => mongoCall(persistenceSpan('audit_events', 'head'), {}, hint),
    list: (filter, after, limit) =>
      mongoCall(persistenceSpan('audit_events', 'list'), {}, async () =>
        (await events.find(listQuery(filter, after)).sort({ _id: 1 }).limit(limit).toArray()).map(
          toEvent,
        ),
      ),
  };
};
