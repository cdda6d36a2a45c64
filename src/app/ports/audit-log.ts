import type { AuditEntry, AuditEvent, AuditFilter } from '../../domain/audit-event.js';
import type { AuditMarks } from '../../domain/audit-marks.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';

/** The audit log's cryptography: the chain's keyed hash, and sealed (encrypted, authenticated) details. */
export interface AuditSeal {
  mac(content: string): string;
  seal(details: Readonly<Record<string, string>>): string;
  /** Throws INTERNAL (`AUDIT_DETAILS_UNREADABLE`) when the details were not sealed with this key. */
  open(sealed: string): Record<string, string>;
}

/**
 * The append-only, hash-chained audit log, shared by every replica: each
 * appended event takes the next sequence (no gaps, no two events at one) and
 * names the hash of the one before.
 */
export interface AuditLog {
  /** Appends the entry at the end of the chain; an entry whose key is already in the log is not appended again. */
  append(entry: AuditEntry): Promise<void>;
  /** Events in sequence order after `after` (0: from the start), at most `limit`. */
  read(after: number, limit: number): Promise<AuditEvent[]>;
  /** The highest sequence known to have been written (it can lag behind, never run ahead). */
  head(): Promise<number>;
  /** Whether the entry with this key is in the log. */
  has(key: AuditEntry['key']): Promise<boolean>;
  /** Events matching `filter` in sequence order after `after`, at most `limit`. */
  list(filter: AuditFilter, after: number, limit: number): Promise<AuditEvent[]>;
  /**
   * Since when the log holds every final answer and notice (the first start
   * of a version that audits each on the database): older ones were
   * recorded without events.
   */
  factsAuditedSince(): Promise<Date>;
}

/** The facts of requests owed to the audit log, appended in groups. */
export interface AuditOutbox {
  /**
   * Appends the facts `request` owes (those past its `audited` marks) soon,
   * with others; never throws. Those `made` covers were recorded by earlier
   * writes, maybe of another replica that appended them already.
   */
  owe(request: DeletionRequest, made: AuditMarks): void;
  /**
   * Appends the facts `request` owes now (made by earlier writes) that the
   * log does not hold; how many it appended. Throws when the log is away.
   */
  appendOwed(request: DeletionRequest): Promise<number>;
  /**
   * Appends `entry` after the facts `request` owes (with what else is
   * gathering, in one group): its last event. Throws when the log is away.
   */
  appendAfter(request: DeletionRequest, entry: AuditEntry): Promise<void>;
  /**
   * Settles once what is owed so far has gone to the log with its group (or
   * failed to: it stays owed), without cutting the gathering short.
   */
  appended(): Promise<void>;
  /** What of the request this replica knows to be in the log. */
  known(id: DeletionRequest['id']): AuditMarks;
  /** Appends what is still gathering (at shutdown). */
  flush(): Promise<void>;
}
