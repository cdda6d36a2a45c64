import type { AuditEntry, AuditEvent, AuditFilter } from '../domain/audit-event.js';
import type { AuditMarks } from '../domain/audit-marks.js';
import type { BreakerState, PauseReason } from '../domain/erasure-breaker.js';
import type { DeletionRequest, TraceLink } from '../domain/deletion-request.js';
import type { DeletionState } from '../domain/deletion-state.js';
import type { DeletionRequestId, SubjectId } from '../domain/ids.js';
import type { ErasureOutcome, ParticipantSpec } from '../domain/erasure-steps.js';
import type { Jurisdiction } from '../domain/legal-deadline.js';
import type { Contact } from '../domain/notices.js';
import type { RateLimit } from '../domain/rate-limits.js';
import type { LocalErasureRecord } from '../domain/erasure-report.js';
import type { NoticeChannel, SentNotice, SubjectNotice } from '../domain/subject-notice.js';

/** Outcome of inserting a new request; the two unique keys are reported apart. */
export type InsertOutcome =
  | { readonly kind: 'INSERTED' }
  | { readonly kind: 'DUPLICATE_IDEMPOTENCY_KEY' }
  | { readonly kind: 'DUPLICATE_ACTIVE_SUBJECT' };

/** A page of requests, newest first (keyset pagination on createdAt, id). */
export interface ListQuery {
  readonly state: DeletionState | undefined;
  readonly subjectId: SubjectId | undefined;
  readonly limit: number;
  readonly after: { readonly createdAt: Date; readonly id: DeletionRequestId } | undefined;
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
   * Stores `next`, made from `previous` (one version on), if no one else has
   * written that version; false when the request moved on. Atomic across
   * replicas, also on FerretDB. `previous` is what the change was made from,
   * so that what changed (a state change, say) can be told.
   */
  update(next: DeletionRequest, previous: DeletionRequest): Promise<boolean>;
  /**
   * Atomically spends one of the request's `maxAttempts` confirmation
   * attempts; false when none is left (exactly `maxAttempts` calls ever succeed).
   */
  reserveConfirmationAttempt(id: DeletionRequestId, maxAttempts: number): Promise<boolean>;
  list(query: ListQuery): Promise<DeletionRequest[]>;
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
}

/** Open requests, for the gauges SREs alert on. */
export interface OpenCounts {
  /** Only open states appear; a state with none may be missing. */
  readonly byState: Partial<Readonly<Record<DeletionState, number>>>;
  readonly nearDeadline: number;
}

/** The facts about an account the service needs; contact details stay in the directory. */
export interface Account {
  readonly subjectId: SubjectId;
  readonly roles: readonly string[];
  readonly flagged: boolean;
  readonly jurisdiction: Jurisdiction | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly pushToken: string | null;
  readonly preferredChannel: NoticeChannel | null;
  readonly locale: string | null;
}

/** What the local purge removed. */
export interface LocalErasure {
  readonly accounts: number;
  readonly sessions: number;
  readonly apiTokens: number;
}

/** The accounts, sessions and API tokens of the company, in the same database. Every method is idempotent. */
export interface AccountDirectory {
  find(subjectId: SubjectId): Promise<Account | null>;
  /**
   * Deactivates the account on behalf of a deletion request and deletes all its
   * sessions and API tokens at once. An account deactivated for another reason
   * stays as it is (only its sessions and tokens go). Returns the account when
   * this call deactivated it; null when it did not (already deactivated, or none).
   */
  suspend(subjectId: SubjectId, by: DeletionRequestId): Promise<Account | null>;
  /** Reactivates the account only if `by` deactivated it; revoked sessions stay revoked. */
  restore(subjectId: SubjectId, by: DeletionRequestId): Promise<void>;
  /** Deletes the account, its sessions and its API tokens. */
  erase(subjectId: SubjectId): Promise<LocalErasure>;
}

/**
 * One notice on its way to one subject. The contact is personal data: it
 * never leaves the notifier (no log, no span, no error carries it).
 */
export interface NoticeDelivery {
  readonly notice: SubjectNotice;
  readonly to: Contact;
  /**
   * The event the notice is for, the same on every attempt (e.g. `<request>/SCHEDULED`):
   * sent as the provider's idempotency key, so a provider that honours it delivers a repeat once.
   */
  readonly key: string;
}

/** Where a notice went: the channel used and the provider's id for the message (null when it gives none). */
export interface DeliveryReceipt {
  readonly channel: NoticeChannel | 'dev_mailbox';
  readonly messageId: string | null;
}

/**
 * Delivers notices to the subject. Throws UNAVAILABLE when the channel is
 * down (try again later), FAILED_PRECONDITION when the notice can never go
 * (no address on any channel, an address the provider refuses for good).
 */
export interface Notifier {
  send(delivery: NoticeDelivery): Promise<DeliveryReceipt>;
}

/** One-time codes: generated from a CSPRNG, kept only as a keyed hash bound to one request. */
export interface OneTimeCodes {
  generate(): string;
  hash(deletionRequestId: DeletionRequestId, code: string): string;
  /** Constant-time comparison of the code's keyed hash with the stored one. */
  matches(deletionRequestId: DeletionRequestId, code: string, storedHash: string): boolean;
  /** A digest of a request's parameters (idempotency fingerprint). */
  fingerprint(parts: readonly string[]): string;
}

/** Signs erasure reports (Ed25519); anyone with the public key can verify them. */
export interface ReportSigner {
  sign(payload: string): { readonly signature: string; readonly keyId: string };
  /** SHA-256 of a payload, hex: what identifies a report once the report itself is gone. */
  digest(payload: string): string;
}

/** Time, so tests can fix it. */
export interface Clock {
  now(): Date;
}

/** New unguessable ids. */
export interface IdGenerator {
  newDeletionRequestId(): DeletionRequestId;
  /** A random id for an event that happens once (an audited read or action). */
  newEventId(): string;
}

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

/** When work falls due, for this replica's worker (a no-op where none runs). */
export interface WorkSchedule {
  /** Work falls due at `at`: a worker that planned its next pass later runs it then. */
  dueAt(at: Date): void;
}

/** The mass-deletion breaker's state, one record shared by every replica. */
export interface BreakerStore {
  /**
   * The newest state. `cached`: the newest this replica has seen (it read or
   * wrote it), without asking the database: possibly stale, which a `save`
   * on top of it finds out. Decide nothing on a cached state without saving.
   */
  load(options?: { readonly cached?: boolean }): Promise<BreakerState>;
  /** Writes `next` when the stored version is still `previous.version`; false when another writer came first. */
  save(next: BreakerState, previous: BreakerState): Promise<boolean>;
}

/** A subject whose erasure completed, known only by its pseudonym. */
export interface ErasedSubject {
  readonly subjectPseudonym: string;
  readonly deletionRequestId: DeletionRequestId;
  readonly erasedAt: Date;
}

/**
 * An erasure as its purge enters it: what was erased here and what the
 * subject was told, so that a purge repeated after a crash (with the account
 * gone and the key destroyed) still reports what the first one did.
 */
export interface ErasureEntry extends ErasedSubject {
  readonly localErasure: LocalErasureRecord;
  /** The final notice's outcome; null when none was owed. */
  readonly finalNotice: SentNotice | null;
}

/** The erased-subject ledger: which subjects were erased, for services restored from a backup. */
export interface ErasedSubjectLedger {
  /**
   * Records an erasure and returns the subject's entry: this one, or the
   * first when the subject was recorded before (a repeated purge, or an
   * earlier erasure of the subject; one written before entries held what was
   * erased is returned without it).
   */
  record(entry: ErasureEntry): Promise<ErasureEntry | ErasedSubject>;
  /** The entries of those pseudonyms that are in the ledger. */
  find(pseudonyms: readonly string[]): Promise<ErasedSubject[]>;
}

/**
 * The key-encryption key (KEK) that wraps subjects' data keys: a local key
 * from configuration now, a KMS key later. A wrapped key is bound to its
 * subject (a key moved to another subject does not unwrap).
 */
export interface KeyEncryptionKey {
  wrap(dataKey: Uint8Array, subjectId: SubjectId): Promise<string>;
  /** Throws INTERNAL `DATA_KEY_UNWRAP_FAILED` when it was not wrapped by this KEK for this subject, or was altered. */
  unwrap(wrapped: string, subjectId: SubjectId): Promise<Uint8Array>;
}

/**
 * Each subject's data key (AES-256), kept only wrapped by the KEK, apart from
 * the data it encrypts. Destroying it is crypto-shredding: every copy of what
 * it encrypted, backups included, becomes unreadable. Database failures surface as UNAVAILABLE.
 */
export interface SubjectKeyStore {
  /** The subject's key, made on first use (replicas racing get the same one). */
  getOrCreate(subjectId: SubjectId): Promise<Uint8Array>;
  /** The subject's key; null when there is none (never made, or destroyed). */
  find(subjectId: SubjectId): Promise<Uint8Array | null>;
  /** Destroys the subject's key; destroying a key that is gone is fine. */
  destroy(subjectId: SubjectId): Promise<void>;
}

/**
 * Encrypts a subject's personal data with their data key (AES-256-GCM), each
 * value bound to the subject, to `context` (the request it belongs to) and
 * to its field name.
 */
export interface SubjectCipher {
  /** Each value encrypted under the subject's key, made on first use. */
  seal(
    subjectId: SubjectId,
    context: string,
    values: Readonly<Record<string, string>>,
  ): Promise<Record<string, string>>;
  /**
   * The plaintexts, or null when the subject's key is gone (shredded).
   * Throws INTERNAL `PERSONAL_DATA_UNREADABLE` when the key exists but does
   * not open a value (altered, or moved to another subject, request or field).
   */
  open(
    subjectId: SubjectId,
    context: string,
    sealed: Readonly<Record<string, string>>,
  ): Promise<Record<string, string> | null>;
}

/** Counts what the use cases see happen, for metrics. Names and codes only. */
export interface DeletionMetrics {
  /** A call to a linked service failed; `retrying` when it will be tried again later. */
  participantFailed(failure: {
    readonly participant: string;
    readonly phase: 'suspend' | 'restore' | 'erase';
    readonly reason: string;
    readonly retrying: boolean;
  }): void;
  /** The mass-deletion breaker tripped: erasures are paused. */
  breakerTripped(reason: PauseReason): void;
  /** An erasure due to start was held back because erasures are paused. */
  erasureHeld(): void;
}

/** Tracing as the use cases see it: the current trace id, and a span around a step. */
export interface TraceContext {
  /** The trace and span ids of the active span ('' outside any). */
  current(): { readonly traceId: string; readonly spanId: string };
  /** Runs `fn` in a span (a new trace when none is active). Attributes are ids, never personal data. */
  inSpan<T>(
    name: string,
    attributes: Readonly<Record<string, string>>,
    fn: () => Promise<T>,
  ): Promise<T>;
  /** Notes something that happened in the active span (e.g. a retry scheduled). Ids only. */
  event(name: string, attributes: Readonly<Record<string, string>>): void;
  /** Adds what a step found out (e.g. a linked service's answer) to the active span. Ids only. */
  annotate(attributes: Readonly<Record<string, string>>): void;
  /** Runs `fn` in the root span of a new trace, linked to spans of earlier traces. */
  inLinkedSpan<T>(
    span: {
      readonly name: string;
      readonly attributes: Readonly<Record<string, string>>;
      readonly links: readonly TraceLink[];
    },
    fn: () => Promise<T>,
  ): Promise<T>;
}

/** A stored API key: only its SHA-256 is kept. */
export interface ApiKeyRecord {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly revoked: boolean;
}

/** Looks up API keys by their hash. */
export interface ApiKeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
}

/** A linked service's answer to Erase: final, or accepted for a later report. */
export type EraseAnswer = { readonly outcome: ErasureOutcome } | { readonly expectedBy: Date };

/** What one Erase call carries. */
export interface EraseCall {
  readonly deletionRequestId: DeletionRequestId;
  readonly subjectId: SubjectId;
  /** When the service needs a final answer by (the legal deadline). */
  readonly finalAnswerDeadline: Date;
}

/**
 * The linked services from configuration. A failed call throws a DomainError
 * whose code says what happened (UNAVAILABLE, DEADLINE_EXCEEDED, …) and whose
 * `retryable` metadata says whether trying again can help; an answer about
 * another request or subject is a failure (`ANSWER_MISMATCH`), never a success.
 */
export interface Participants {
  readonly specs: readonly ParticipantSpec[];
  /** The subject id a service is given (and must answer and report with): the real one or its pseudonym. */
  subjectIdFor(name: string, subjectId: SubjectId): string;
  erase(name: string, call: EraseCall): Promise<EraseAnswer>;
  /** Suspend (soft delete) or Restore (undelete); resolves once the service acknowledged. */
  notify(
    name: string,
    phase: 'suspend' | 'restore',
    call: Omit<EraseCall, 'finalAnswerDeadline'>,
  ): Promise<void>;
}

/** The answer of a rate limit: allowed, or refused until `retryDelayMs` has passed. */
export type RateVerdict =
  { readonly allowed: true } | { readonly allowed: false; readonly retryDelayMs: number };

/**
 * Rate limits shared by every replica. `key` names the principal or subject
 * (the store keeps only a keyed digest of it). Throws UNAVAILABLE when the
 * store cannot be reached; the caller decides whether that refuses the call.
 */
export interface RateLimiter {
  /** Spends one point of `key`'s budget for `limit` before the work it guards is done. */
  consume(limit: RateLimit, key: string): Promise<RateVerdict>;
  /** Deletes the entries of windows that are over; resolves to how many went. */
  sweep(): Promise<number>;
}
