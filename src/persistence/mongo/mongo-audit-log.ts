import type { Connection, mongo } from 'mongoose';
import type { AuditLog, AuditSeal } from '../../app/ports/audit-log.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
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
import { groupCommit } from '../../app/common/group-commit.js';
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
  /**
   * The last sequence of the insert this event came in (not chained: a hint
   * for a writer that lost a place to it, where the inserting writer's end
   * will be).
   */
  through?: number;
}

/** The highest sequence a writer has seen written: a hint where to look for the end. */
interface AuditHeadDocument {
  _id: 'head';
  sequence: number;
  /** The hash of the event at `sequence` (absent from heads written before it was kept). */
  hash?: string;
}

/** Unique: an entry is appended once, whoever retries it. */
export const auditEventIndexes = [{ key: { key: 1 }, name: 'audit_key', unique: true }] as const;

/** The event a document holds (`through` is a hint for writers, not part of it). */
const toEvent = (document: AuditEventDocument): AuditEvent => ({
  sequence: document._id,
  key: document.key,
  kind: document.kind,
  at: document.at,
  actor: document.actor,
  deletionRequestId: document.deletionRequestId,
  subjectPseudonym: document.subjectPseudonym,
  sealedDetails: document.sealedDetails,
  previousHash: document.previousHash,
  hash: document.hash,
});

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

/** After another writer took a place, the head is read before each append for this long. */
const CONTENDED_MS = 10_000;
/** Racing appenders take turns; this many lost turns in a row means something is wrong. */
const MAX_TURNS = 200;
/** Entries appended with one insert at most. */
const MAX_GROUP = 100;

/** The last event of the chain as a writer knows it. */
interface ChainEnd {
  readonly sequence: number;
  readonly hash: string;
}

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
/** Facts about the log itself, by `_id`. */
export const AUDIT_META = 'audit_meta';

/**
 * Since when every final answer and notice is audited, owed by the write
 * that records it: the first start of a version that does it. (An earlier
 * version, marked `answers_audited_since`, audited them only with a
 * completion: requests that never completed lack theirs.)
 */
export const FACTS_AUDITED_SINCE = 'facts_audited_since';

/** Records, once, that final answers and notices are audited from now on (at every start). */
export const markFactsAudited = async (conn: Connection): Promise<void> => {
  await conn
    .collection<{ _id: string; at: Date }>(AUDIT_META)
    .updateOne(
      { _id: FACTS_AUDITED_SINCE },
      { $setOnInsert: { at: new Date() } },
      { upsert: true },
    );
};

export const createMongoAuditLog = (conn: Connection, seal: AuditSeal): AuditLog => {
  const events = conn.collection<AuditEventDocument>(AUDIT_EVENTS);
  const heads = conn.collection<AuditHeadDocument>(AUDIT_HEAD);
  const meta = conn.collection<{ _id: string; at: Date }>(AUDIT_META);
  const hint = async (): Promise<number> => (await heads.findOne({ _id: 'head' }))?.sequence ?? 0;
  /**
   * The end the head names: its sequence and that event's hash (read from
   * the event when the head predates storing it). It may lag, never lead:
   * a writer moves it only after its insert, and every event before an
   * event exists (each is chained on after the one before it).
   */
  const headEnd = async (): Promise<ChainEnd> => {
    const head = await heads.findOne({ _id: 'head' });
    const sequence = head?.sequence ?? 0;
    if (sequence === 0) return { sequence, hash: GENESIS_HASH };
    const hash =
      head?.hash ?? (await events.findOne({ _id: sequence }, { projection: { hash: 1 } }))?.hash;
    if (hash === undefined) {
      throw new DomainError({
        code: 'INTERNAL',
        reason: 'AUDIT_LOG_BROKEN',
        message: 'the audit log is missing events it recorded',
      });
    }
    return { sequence, hash };
  };
  /** Moves the head to `end` unless it is there or further already. */
  const advanceHead = async (end: ChainEnd): Promise<void> => {
    try {
      await heads.updateOne(
        { _id: 'head', sequence: { $lt: end.sequence } },
        { $set: { sequence: end.sequence, hash: end.hash } },
        { upsert: true },
      );
    } catch (error) {
      // The head is further on: the upsert found no match and its insert met the head.
      if (!isDuplicateKey(error)) throw error;
    }
  };
  /** The end this process last saw (events are never removed). */
  let known: ChainEnd | undefined;
  /** When another writer last took a place this one tried (epoch ms). */
  let contendedAt = Number.NEGATIVE_INFINITY;
  /**
   * Where to append: the end this replica saw last, or the head's when that
   * is further on. The head is read first only while other writers are
   * appending too (a place was lost lately): alone, the end this replica saw
   * is the end. Either may be behind; an insert after it then fails, and the
   * append moves on. Only events known to exist are read (a server without
   * an index for `_id`, FerretDB 1.x, scans the whole log to say one does not).
   */
  const start = async (): Promise<ChainEnd> => {
    if (known !== undefined && Date.now() - contendedAt > CONTENDED_MS) return known;
    const head = await headEnd();
    return known !== undefined && known.sequence >= head.sequence ? known : head;
  };
  /** The entries chained on after `end`: each names the hash of the one before. */
  const chainAfter = (end: ChainEnd, pending: readonly Pending[]): AuditEventDocument[] => {
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
      return { _id: sequence, ...stored, hash, through: end.sequence + pending.length };
    });
  };
  /**
   * Where to go on after losing place `taken` to another writer: the end of
   * that writer's insert when it is in already, else the head when it is
   * further, else the place itself.
   */
  const pastWriter = async (taken: ChainEnd & { readonly through?: number }): Promise<ChainEnd> => {
    const { sequence, hash } = taken;
    if (taken.through !== undefined && taken.through > sequence) {
      const last = await events.findOne({ _id: taken.through }, { projection: { hash: 1 } });
      if (last !== null) return { sequence: taken.through, hash: last.hash };
    }
    const head = await headEnd();
    return head.sequence > sequence ? head : { sequence, hash };
  };
  /**
   * Appends entries in order with one ordered insert. The server stops at the
   * first refusal: the entries before it are in; if its place is still free,
   * the refused entry's key is in the log already (a repeat: dropped), else
   * another writer took the place and the rest is chained on after the
   * furthest end known (see `pastWriter`).
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
      const place = end.sequence + 1;
      const taken = await events.findOne({ _id: place }, { projection: { hash: 1, through: 1 } });
      if (taken === null) pending = pending.slice(1);
      else {
        contendedAt = Date.now();
        end = known = await pastWriter({ ...taken, sequence: place });
      }
    }
    if (pending.length > 0)
      throw new DomainError({
        code: 'ABORTED',
        reason: 'AUDIT_CONTENDED',
        message: 'the audit log is too busy to append; retry',
      });
    // Best effort: a lagging head costs a few reads, never a wrong chain.
    if (end.sequence > ended) await advanceHead(end);
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
        // MongoDB reads limit(0) as no limit; the port's "at most 0" is none.
        limit <= 0
          ? []
          : (
              await events
                .find({ _id: { $gt: after } })
                .sort({ _id: 1 })
                .limit(limit)
                .toArray()
            ).map(toEvent),
      ),
    head: () => mongoCall(persistenceSpan('audit_events', 'head'), {}, hint),
    has: (key) =>
      mongoCall(
        persistenceSpan('audit_events', 'has'),
        {},
        async () => (await events.findOne({ key }, { projection: { _id: 1 } })) !== null,
      ),
    list: (filter, after, limit) =>
      mongoCall(persistenceSpan('audit_events', 'list'), {}, async () =>
        limit <= 0
          ? []
          : (
              await events.find(listQuery(filter, after)).sort({ _id: 1 }).limit(limit).toArray()
            ).map(toEvent),
      ),
    factsAuditedSince: () =>
      mongoCall(
        persistenceSpan('audit_events', 'facts_audited_since'),
        {},
        // Not marked (a database no replica of this version started on): from now.
        async () => (await meta.findOne({ _id: FACTS_AUDITED_SINCE }))?.at ?? new Date(),
      ),
  };
};
