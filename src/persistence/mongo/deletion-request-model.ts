/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   mongoose declares SchemaTypeOptions as a class, but its documented API takes plain
   option objects and never checks them with instanceof. */
import { Schema, type Connection, type Model } from 'mongoose';
import { deletionStates, isActive, type DeletionState } from '../../domain/deletion-state.js';
import type { ConfirmationMethod } from '../../domain/deletion-request.js';
import type { ErasureOutcome, StepStatus } from '../../domain/erasure-steps.js';
import type { Jurisdiction } from '../../domain/legal-deadline.js';
import type { Actor } from '../../domain/principal.js';
import type { RiskReason } from '../../domain/risk-policy.js';
import {
  noticeChannels,
  subjectNoticeKinds,
  type SubjectNoticeKind,
} from '../../domain/subject-notice.js';

/** The collection of deletion requests. */
export const DELETION_REQUESTS = 'deletion_requests';

interface ActorDocument {
  kind: Actor['kind'];
  id: string;
}

interface StateChangeDocument {
  from: DeletionState;
  to: DeletionState;
  actor: ActorDocument;
  at: Date;
  note: string;
  traceId: string;
  spanId?: string;
}

interface OutcomeDocument {
  kind: ErasureOutcome['kind'];
  records?: number;
  categories?: string[];
  legalBasis?: string;
  until?: Date | null;
  erasedRecords?: number;
  justification?: string;
  resolvedBy?: string;
}

/** One participant's progress as stored. */
export interface ParticipantStepDocument {
  status: StepStatus;
  attempts: number;
  lastErrorCode: string | null;
  nextAttemptAt: Date | null;
  expectedBy: Date | null;
  outcome: OutcomeDocument | null;
  updatedAt: Date;
}

/** A deletion request as stored: the entity plus two fields that exist only for uniqueness. */
export interface DeletionRequestDocument {
  _id: string;
  subjectId: string;
  requester: ActorDocument;
  reason: string;
  state: DeletionState;
  version: number;
  riskReasons: RiskReason[];
  jurisdiction: Jurisdiction;
  createdAt: Date;
  updatedAt: Date;
  confirmExpireAt: Date;
  confirmationMethod: ConfirmationMethod | null;
  verification: { codeHash: string } | null;
  deletedAt: Date | null;
  purgeAt: Date | null;
  completedAt: Date | null;
  legalDeadline: Date;
  /** Absent on documents written before extensions existed; its reason is sealed. */
  deadlineExtension?: {
    previousDeadline: Date;
    reason: string;
    actor: ActorDocument;
    at: Date;
    traceId: string;
  } | null;
  reviewer: ActorDocument | null;
  reviewNote: string | null;
  accountSynced: boolean;
  /** Absent on documents written before linked services existed. */
  participants?: Record<string, ParticipantStepDocument>;
  report?: { payload: string; signature: string; keyId: string; algorithm: 'Ed25519' } | null;
  notices?: {
    phase: 'suspend' | 'restore';
    pending: string[];
    attempts: number;
    dueAt: Date;
  } | null;
  /** Absent on documents written before it was recorded. */
  localErasure?: { accounts: number; sessions: number; apiTokens: number; at: Date } | null;
  /** Absent on documents written before the final notice existed. */
  finalNotice?: {
    /** pushToken and preferredChannel are absent on documents written before they existed. */
    contact: {
      email: string | null;
      phone: string | null;
      pushToken?: string | null;
      preferredChannel?: string | null;
      locale: string | null;
    } | null;
    attempts: number;
    dueAt: Date | null;
    sentAt: Date | null;
  } | null;
  /** Absent on documents written before the outbox existed. */
  outbox?: OwedNoticeDocument[];
  /** The earliest `dueAt` of the outbox (null when empty): what the worker queries by. */
  outboxDueAt?: Date | null;
  /**
   * Notices are owed (Suspend/Restore calls, or the outbox): the equality the
   * worker's query leads with, which FerretDB 1.x serves from an index (its
   * ranges and `$or` are evaluated in Go over every document they reach).
   * Absent on documents from before it, until `migrate` sets it.
   */
  noticesOwed?: boolean;
  /** COMPLETED and the subject's key not destroyed yet: the shredder's query, as an equality. */
  keyToShred?: boolean;
  sentNotices?: SentNoticeDocument[];
  /** Absent on documents written before crypto-shredding. */
  subjectKeyDestroyedAt?: Date | null;
  /** Set when the retention sweep cut the request down; absent before sweeps existed. */
  retention?: { sweptAt: Date; reportSha256: string | null; snapshotsPruned: boolean } | null;
  /**
   * The subject's personal data, each value encrypted with their data key
   * (see sealed-personal-data.ts); the plain fields are then blank. Absent
   * on documents written before crypto-shredding, whose plain fields hold it.
   */
  sealed?: {
    reason?: string;
    reviewNote?: string;
    contact?: string;
    extensionReason?: string;
  } | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** The entity's key, or `none:<id>` when it has none (FerretDB has no partial indexes). */
  idempotencyKey: string;
  requestFingerprint: string;
  /** The trace the request was made in ('' when unknown; missing in documents older than the field). */
  createTraceId?: string;
  createSpanId?: string;
  history: StateChangeDocument[];
  /** Changes known in the audit log; absent on documents written when every change was appended at once. */
  auditedThrough?: number;
  /** Sent notices known in the audit log; absent on documents older than their events. */
  auditedNotices?: number;
  /** Linked services whose final answer is known in the audit log; absent on documents older than their events. */
  auditedAnswers?: string[];
  /** When the first fact not known in the audit log was recorded (null: none owed): what the worker queries by. */
  auditDueAt?: Date | null;
  /** The subject id while the request is active, else `closed:<id>`: one active request per subject. */
  activeKey: string;
}

/**
 * The value of `activeKey`. Its unique index holds "one active request per
 * subject" atomically without a partial index.
 */
export const activeKeyOf = (request: {
  id: string;
  subjectId: string;
  state: DeletionState;
}): string => (isActive(request.state) ? request.subjectId : `closed:${request.id}`);

const NO_KEY = 'none:';

/** The stored idempotency key: unique, so a missing key becomes one only this request has. */
export const storedIdempotencyKey = (id: string, key: string | null): string =>
  key ?? `${NO_KEY}${id}`;

/** The entity's idempotency key back from its stored form. */
export const idempotencyKeyOf = (id: string, stored: string): string | null =>
  stored === `${NO_KEY}${id}` ? null : stored;

/** A notice owed to the subject: its kind, and the facts of that kind (null when it has none). */
export interface OwedNoticeDocument {
  key: string;
  kind: SubjectNoticeKind;
  attempts: number;
  /** Absent on entries written before it existed (their dueAt stands in). */
  owedAt?: Date;
  dueAt: Date;
  deadline: Date | null;
  purgeAt: Date | null;
  reason: string | null;
}

/** A notice sent or given up on. */
export interface SentNoticeDocument {
  key: string;
  kind: SubjectNoticeKind;
  outcome: 'SENT' | 'UNDELIVERABLE';
  channel: string | null;
  messageId: string | null;
  at: Date;
}

/** Every index of the collection; created by the migration only (key, name, unique: all FerretDB 1.24 knows). */
export const deletionRequestIndexes = [
  { key: { activeKey: 1 }, name: 'active_key_unique', unique: true },
  { key: { idempotencyKey: 1 }, name: 'idempotency_key_unique', unique: true },
  { key: { createdAt: -1, _id: -1 }, name: 'created_at_desc' },
  { key: { subjectId: 1, createdAt: -1 }, name: 'subject_created_at' },
  { key: { state: 1, createdAt: -1 }, name: 'state_created_at' },
  { key: { state: 1, leaseUntil: 1 }, name: 'state_lease_until' },
  { key: { state: 1, purgeAt: 1 }, name: 'state_purge_at' },
  { key: { state: 1, confirmExpireAt: 1 }, name: 'state_confirm_expire_at' },
  { key: { accountSynced: 1, updatedAt: 1 }, name: 'account_synced_updated_at' },
  { key: { 'notices.dueAt': 1 }, name: 'notices_due_at' },
  { key: { outboxDueAt: 1 }, name: 'outbox_due_at' },
  { key: { state: 1, subjectKeyDestroyedAt: 1 }, name: 'state_subject_key_destroyed_at' },
  { key: { state: 1, legalDeadline: 1 }, name: 'state_legal_deadline' },
  { key: { state: 1, updatedAt: 1 }, name: 'state_updated_at' },
  { key: { auditDueAt: 1 }, name: 'audit_due_at' },
  { key: { noticesOwed: 1 }, name: 'notices_owed' },
  { key: { keyToShred: 1 }, name: 'key_to_shred' },
] as const satisfies readonly { key: Record<string, 1 | -1>; name: string; unique?: true }[];

const strictness = { strict: 'throw', strictQuery: 'throw', versionKey: false } as const;
const subdocument = { ...strictness, _id: false } as const;
/** Every member of a union, listed so that a new member does not compile until it is stored too. */
const every = <T extends string>(members: Record<T, true>): T[] => Object.keys(members) as T[];
const actorKinds = every<Actor['kind']>({ USER: true, SERVICE: true, SYSTEM: true });
const states = [...deletionStates];
const riskReasons = every<RiskReason>({
  SUBJECT_PRIVILEGED_ROLE: true,
  REQUESTED_BY_OTHER: true,
  SUBJECT_FLAGGED: true,
  POLICY_ALWAYS: true,
});
const confirmationMethods = every<ConfirmationMethod>({ ONE_TIME_CODE: true, STEP_UP: true });
const jurisdictions = every<Jurisdiction>({ GDPR: true, CCPA: true });

const actorSchema = new Schema<ActorDocument>(
  {
    kind: { type: String, enum: actorKinds, required: true },
    id: { type: String, required: true },
  },
  subdocument,
);

const stateChangeSchema = new Schema<StateChangeDocument>(
  {
    from: { type: String, enum: states, required: true },
    to: { type: String, enum: states, required: true },
    actor: { type: actorSchema, required: true },
    at: { type: Date, required: true },
    note: { type: String, default: '' },
    traceId: { type: String, default: '' },
    spanId: { type: String, default: '' },
  },
  subdocument,
);

const verificationSchema = new Schema(
  {
    codeHash: { type: String, required: true },
  },
  subdocument,
);

const nullable = <T>(type: T) => ({ type, default: null });

const outcomeSchema = new Schema<OutcomeDocument>(
  {
    kind: {
      type: String,
      enum: every<ErasureOutcome['kind']>({
        ERASED: true,
        NOTHING_FOUND: true,
        RETAINED: true,
        MANUAL: true,
      }),
      required: true,
    },
    records: Number,
    categories: { type: [String], default: undefined },
    legalBasis: String,
    until: Date,
    erasedRecords: Number,
    justification: String,
    resolvedBy: String,
  },
  subdocument,
);

const noticesSchema = new Schema(
  {
    phase: { type: String, enum: ['suspend', 'restore'], required: true },
    pending: { type: [String], required: true },
    attempts: { type: Number, required: true, min: 0 },
    dueAt: { type: Date, required: true },
  },
  subdocument,
);

const finalNoticeSchema = new Schema(
  {
    contact: nullable(
      new Schema(
        {
          email: nullable(String),
          phone: nullable(String),
          pushToken: nullable(String),
          preferredChannel: { type: String, enum: [...noticeChannels, null], default: null },
          locale: nullable(String),
        },
        subdocument,
      ),
    ),
    attempts: { type: Number, required: true, min: 0 },
    dueAt: nullable(Date),
    sentAt: nullable(Date),
  },
  subdocument,
);

const localErasureSchema = new Schema(
  {
    accounts: { type: Number, required: true, min: 0 },
    sessions: { type: Number, required: true, min: 0 },
    apiTokens: { type: Number, required: true, min: 0 },
    at: { type: Date, required: true },
  },
  subdocument,
);

const reportSchema = new Schema(
  {
    payload: { type: String, required: true },
    signature: { type: String, required: true },
    keyId: { type: String, required: true },
    algorithm: { type: String, enum: ['Ed25519'], required: true },
  },
  subdocument,
);

const participantStepSchema = new Schema<ParticipantStepDocument>(
  {
    status: {
      type: String,
      enum: every<StepStatus>({
        PENDING: true,
        RETRYING: true,
        ACCEPTED: true,
        DONE: true,
        FAILED: true,
      }),
      required: true,
    },
    attempts: { type: Number, required: true, min: 0 },
    lastErrorCode: nullable(String),
    nextAttemptAt: nullable(Date),
    expectedBy: nullable(Date),
    outcome: nullable(outcomeSchema),
    updatedAt: { type: Date, required: true },
  },
  subdocument,
);
const sealedSchema = new Schema(
  { reason: String, reviewNote: String, contact: String, extensionReason: String },
  subdocument,
);
const requiredString = { type: String, required: true } as const;
const requiredDate = { type: Date, required: true } as const;
const retentionSchema = new Schema(
  {
    sweptAt: requiredDate,
    reportSha256: nullable(String),
    snapshotsPruned: { type: Boolean, required: true },
  },
  subdocument,
);
const deadlineExtensionSchema = new Schema(
  {
    previousDeadline: requiredDate,
    reason: { type: String, default: '' },
    actor: { type: actorSchema, required: true },
    at: requiredDate,
    traceId: { type: String, default: '' },
  },
  subdocument,
);

const noticeKinds = [...subjectNoticeKinds];
const owedNoticeSchema = new Schema<OwedNoticeDocument>(
  {
    key: requiredString,
    kind: { type: String, enum: noticeKinds, required: true },
    attempts: { type: Number, required: true, min: 0 },
    owedAt: Date,
    dueAt: requiredDate,
    deadline: nullable(Date),
    purgeAt: nullable(Date),
    reason: nullable(String),
  },
  subdocument,
);
const sentNoticeSchema = new Schema<SentNoticeDocument>(
  {
    key: requiredString,
    kind: { type: String, enum: noticeKinds, required: true },
    outcome: { type: String, enum: ['SENT', 'UNDELIVERABLE'], required: true },
    channel: nullable(String),
    messageId: nullable(String),
    at: requiredDate,
  },
  subdocument,
);

const deletionRequestSchema = new Schema<DeletionRequestDocument>(
  {
    _id: requiredString,
    subjectId: requiredString,
    requester: { type: actorSchema, required: true },
    reason: { type: String, default: '' },
    state: { type: String, enum: states, required: true },
    version: { type: Number, required: true, min: 1 },
    riskReasons: { type: [{ type: String, enum: riskReasons }], default: [] },
    jurisdiction: { type: String, enum: jurisdictions, required: true },
    createdAt: requiredDate,
    updatedAt: requiredDate,
    confirmExpireAt: requiredDate,
    confirmationMethod: { type: String, enum: confirmationMethods, default: null },
    verification: nullable(verificationSchema),
    deletedAt: nullable(Date),
    purgeAt: nullable(Date),
    completedAt: nullable(Date),
    legalDeadline: requiredDate,
    deadlineExtension: nullable(deadlineExtensionSchema),
    reviewer: nullable(actorSchema),
    reviewNote: nullable(String),
    accountSynced: { type: Boolean, required: true },
    participants: { type: Map, of: participantStepSchema, default: {} },
    report: nullable(reportSchema),
    notices: nullable(noticesSchema),
    localErasure: nullable(localErasureSchema),
    finalNotice: nullable(finalNoticeSchema),
    outbox: { type: [owedNoticeSchema], default: [] },
    outboxDueAt: nullable(Date),
    noticesOwed: Boolean,
    keyToShred: Boolean,
    sentNotices: { type: [sentNoticeSchema], default: [] },
    subjectKeyDestroyedAt: nullable(Date),
    retention: nullable(retentionSchema),
    sealed: nullable(sealedSchema),
    leaseOwner: nullable(String),
    leaseUntil: nullable(Date),
    idempotencyKey: requiredString,
    requestFingerprint: requiredString,
    createTraceId: { type: String, default: '' },
    createSpanId: { type: String, default: '' },
    history: { type: [stateChangeSchema], default: [] },
    auditedThrough: { type: Number, min: 0 },
    auditedNotices: { type: Number, min: 0 },
    auditedAnswers: { type: [String], default: undefined },
    auditDueAt: nullable(Date),
    activeKey: requiredString,
  },
  {
    ...strictness,
    collection: DELETION_REQUESTS,
    id: false,
    autoCreate: false,
  },
);
for (const index of deletionRequestIndexes) {
  deletionRequestSchema.index(
    index.key,
    'unique' in index ? { name: index.name, unique: true } : { name: index.name },
  );
}

/** The model on `conn`, compiled once per connection. */
export const deletionRequestModel = (conn: Connection): Model<DeletionRequestDocument> =>
  (conn.models.DeletionRequest as Model<DeletionRequestDocument> | undefined) ??
  conn.model<DeletionRequestDocument>('DeletionRequest', deletionRequestSchema);
