import type { AuditMarks } from '../../domain/audit-marks.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionState } from '../../domain/deletion-state.js';
import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import type { ErasureOutcome } from '../../domain/erasure-steps.js';
import type { Jurisdiction } from '../../domain/legal-deadline.js';
import type { LinkedServiceStep } from '../../domain/linked-service-step.js';

/** Outcome of inserting a new request; the two unique keys are reported apart. */
export type InsertOutcome =
  | { readonly kind: 'INSERTED' }
  | { readonly kind: 'DUPLICATE_IDEMPOTENCY_KEY' }
  | { readonly kind: 'DUPLICATE_ACTIVE_SUBJECT' };

/**
 * Which requests a list or a count takes; each filter set narrows it (they
 * combine with AND).
 */
export interface RequestFilter {
  readonly jurisdiction: Jurisdiction | undefined;
  /**
   * Requests whose Erase step at this linked service is not finished: waiting
   * on it (PENDING, RETRYING, ACCEPTED) or FAILED there. Owed Suspend and
   * Restore calls do not count.
   */
  readonly linkedService: string | undefined;
  /** Narrows `linkedService` to one kind of step there (`stepSelection`); only with it. */
  readonly linkedServiceStep: LinkedServiceStep | undefined;
}

/**
 * A page of requests (keyset pagination): newest first (createdAt, id
 * descending); with `deadlineBefore`, the soonest legal deadline first
 * (legalDeadline, id ascending).
 */
export interface ListQuery extends RequestFilter {
  readonly state: DeletionState | undefined;
  readonly subjectId: SubjectId | undefined;
  /** Only open requests whose legal deadline is before this time; orders by deadline. */
  readonly deadlineBefore: Date | undefined;
  readonly limit: number;
  /** Where the previous page ended: its last request's sort time (creation, or deadline) and id. */
  readonly after: { readonly at: Date; readonly id: DeletionRequestId } | undefined;
}

/** A count of requests by state (RequestFilter), with open ones by legal deadline. */
export interface CountQuery extends RequestFilter {
  /** Open requests whose deadline is before it are past their deadline. */
  readonly now: Date;
  /** Open requests whose deadline is from `now` to before this are due soon. */
  readonly dueBefore: Date;
}

/** How many requests a CountQuery takes. */
export interface RequestCounts {
  /** A state with none may be missing. */
  readonly byState: Partial<Readonly<Record<DeletionState, number>>>;
  readonly pastDeadline: number;
  readonly dueSoon: number;
}

/** How many open requests one linked service holds up. */
export interface LinkedServiceLoad {
  /** Requests a `linkedServiceStep` WAITING filter takes. */
  readonly waiting: number;
  /** NEEDS_ATTENTION requests a `linkedServiceStep` FAILED filter takes. */
  readonly needingAttention: number;
}

/**
 * Stores deletion requests. Every change is one atomic update guarded by the
 * version (no transactions). Failures of the database surface as UNAVAILABLE.
 */
export interface DeletionRequestRepository {
  /** Inserts a new request; a second active request per subject and a reused idempotency key are refused. */
  insert(request: DeletionRequest): Promise<InsertOutcome>;
  /**
   * The request with this id; with `subjectId`, only if it is that subject's
   * (another subject's is not even read, so none of its sealed fields is opened).
   */
  findById(
    id: DeletionRequestId,
    scope?: { readonly subjectId: string },
  ): Promise<DeletionRequest | null>;
  findByIdempotencyKey(key: string): Promise<DeletionRequest | null>;
  findActiveBySubject(subjectId: SubjectId): Promise<DeletionRequest | null>;
  /** Deletes a request that never got anywhere (its code could not be sent); false when it moved on. */
  remove(id: DeletionRequestId, expectedVersion: number): Promise<boolean>;
  /**
   * Writes what changed from `previous` to `next` (one version on), if no one
   * else has written that version; false when the request moved on. Atomic
   * across replicas, also on FerretDB. Only the difference is written: a
   * field the change left alone keeps what is stored (e.g. audit marks the
   * repository raised after `previous` was read).
   */
  update(next: DeletionRequest, previous: DeletionRequest): Promise<boolean>;
  /**
   * Atomically spends one of the request's `maxAttempts` confirmation
   * attempts; false when none is left (exactly `maxAttempts` calls ever succeed).
   */
  reserveConfirmationAttempt(id: DeletionRequestId, maxAttempts: number): Promise<boolean>;
  list(query: ListQuery): Promise<DeletionRequest[]>;
  /** How many requests match, by state, and how many open ones are past or near their legal deadline. */
  count(query: CountQuery): Promise<RequestCounts>;
  /** How many requests each named linked service holds up (every name answered, zeros included). */
  countByLinkedService(names: readonly string[]): Promise<Record<string, LinkedServiceLoad>>;
  /** SCHEDULED requests past purgeAt, and ERASING ones whose lease expired. */
  findDueForErasure(now: Date, limit: number): Promise<DeletionRequest[]>;
  /** Requests owing Suspend or Restore calls that are due. */
  findNoticesDue(now: Date, limit: number): Promise<DeletionRequest[]>;
  /** REQUESTED requests past their confirmation window. */
  findExpired(now: Date, limit: number): Promise<DeletionRequest[]>;
  /** Requests whose account side effects did not finish, last changed before `before`. */
  findUnsynced(before: Date, limit: number): Promise<DeletionRequest[]>;
  /** How many requests are open, by state, and how many of those have a legal deadline before `deadlineBefore`. */
  countOpen(deadlineBefore: Date): Promise<OpenCounts>;
  /** Open requests whose legal deadline is before `before`, the nearest first. */
  findNearDeadline(before: Date, limit: number): Promise<DeletionRequest[]>;
  /**
   * Closed requests last changed before `closedBefore`, not swept yet, owing
   * nothing (notices, Suspend/Restore calls, account changes, audit events), and (when
   * COMPLETED) with the subject's key destroyed; and swept ones whose older
   * snapshots are not pruned yet.
   */
  findRetentionDue(closedBefore: Date, limit: number): Promise<DeletionRequest[]>;
  /** Forgets every stored snapshot of a request older than `keepVersion`. */
  pruneSnapshots(id: DeletionRequestId, keepVersion: number): Promise<void>;
  /** COMPLETED requests whose subject's data key is not recorded as destroyed yet. */
  findUnshredded(limit: number): Promise<DeletionRequest[]>;
  /** Requests owing a state change made before `before` to the audit log, the oldest first. */
  findAuditDue(before: Date, limit: number): Promise<DeletionRequest[]>;
  /**
   * What requests record that the audit log must hold, by id after
   * `afterId`, `limit` at a time; nothing sealed is read.
   */
  listAuditRecords(afterId: string, limit: number): Promise<AuditRecords[]>;
}

/** What one request records that calls for audit events. */
export interface AuditRecords {
  readonly id: DeletionRequestId;
  readonly changes: readonly { readonly from: string; readonly to: string; readonly at: Date }[];
  /** How far the log is known to hold them; the rest is owed. */
  readonly audited: AuditMarks;
  /** Linked services' recorded outcomes (MANUAL: resolved by an administrator). */
  readonly answers: readonly {
    readonly participant: string;
    readonly outcome: ErasureOutcome['kind'];
    readonly at: Date;
  }[];
  readonly notices: readonly { readonly key: string; readonly at: Date }[];
  /** Alerts to linked services' owners that settled (sent or given up), by service. */
  readonly alerts: readonly { readonly participant: string; readonly at: Date }[];
}

/** Open requests, for the gauges SREs alert on. */
export interface OpenCounts {
  /** Only open states appear; a state with none may be missing. */
  readonly byState: Partial<Readonly<Record<DeletionState, number>>>;
  readonly nearDeadline: number;
}
