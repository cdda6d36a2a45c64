import { Schema, type Connection, type Model } from 'mongoose';
import { deletionStates, isActive, type DeletionState } from '../../domain/deletion-state.js';
import type { ConfirmationMethod } from '../../domain/deletion-request.js';
import type { ErasureOutcome, StepStatus } from '../../domain/erasure-steps.js';
import type { Jurisdiction } from '../../domain/legal-deadline.js';
import type { OwnerAlertStatus } from '../../domain/owner-alerts.js';
import type { Actor } from '../../domain/principal.js';
import type { RiskReason } from '../../domain/risk-policy.js';
import { noticeChannels, subjectNoticeKinds } from '../../domain/subject-notice.js';
import { addedLater, type Override, type Stored } from './stored-paths.js';

/** The collection of deletion requests. */
export const DELETION_REQUESTS = 'deletion_requests';

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
const noticeKinds = [...subjectNoticeKinds];

const nullable = <T>(type: T) => ({ type, default: null });
const requiredString = { type: String, required: true } as const;
const requiredDate = { type: Date, required: true } as const;
const count = { type: Number, required: true, min: 0 } as const;

const actorPaths = {
  kind: { type: String, enum: actorKinds, required: true },
  id: requiredString,
};
type ActorDocument = Stored<typeof actorPaths>;
const actorSchema = new Schema<ActorDocument>(actorPaths, subdocument);

const stateChangePaths = {
  from: { type: String, enum: states, required: true },
  to: { type: String, enum: states, required: true },
  actor: { type: actorSchema, required: true },
  at: requiredDate,
  note: { type: String, default: '' },
  traceId: { type: String, default: '' },
  spanId: addedLater({ type: String, default: '' }),
};
type StateChangeDocument = Stored<typeof stateChangePaths>;
const stateChangeSchema = new Schema<StateChangeDocument>(stateChangePaths, subdocument);

const verificationPaths = { codeHash: requiredString };
const verificationSchema = new Schema<Stored<typeof verificationPaths>>(
  verificationPaths,
  subdocument,
);

const outcomePaths = {
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
};
/**
 * `until` is the one path whose type is not derived: a retention without an end
 * is stored as null, though the path has no `default: null` (one would add
 * `until: null` to every other outcome).
 */
type OutcomeDocument = Override<Stored<typeof outcomePaths>, { until?: Date | null }>;
const outcomeSchema = new Schema<OutcomeDocument>(outcomePaths, subdocument);

const noticesPaths = {
  phase: { type: String, enum: ['suspend', 'restore'] as const, required: true },
  pending: { type: [String], required: true },
  attempts: count,
  dueAt: requiredDate,
};
const noticesSchema = new Schema<Stored<typeof noticesPaths>>(noticesPaths, subdocument);

const contactPaths = {
  email: nullable(String),
  phone: nullable(String),
  /** Absent on documents written before it existed. */
  pushToken: addedLater(nullable(String)),
  /** Absent on documents written before it existed. */
  preferredChannel: addedLater({
    type: String,
    enum: [...noticeChannels, null],
    default: null,
  }),
  locale: nullable(String),
};
const contactSchema = new Schema<Stored<typeof contactPaths>>(contactPaths, subdocument);

const finalNoticePaths = {
  contact: nullable(contactSchema),
  attempts: count,
  dueAt: nullable(Date),
  sentAt: nullable(Date),
};
const finalNoticeSchema = new Schema<Stored<typeof finalNoticePaths>>(
  finalNoticePaths,
  subdocument,
);

const localErasurePaths = {
  accounts: count,
  sessions: count,
  apiTokens: count,
  at: requiredDate,
};
const localErasureSchema = new Schema<Stored<typeof localErasurePaths>>(
  localErasurePaths,
  subdocument,
);

const reportPaths = {
  payload: requiredString,
  signature: requiredString,
  keyId: requiredString,
  algorithm: { type: String, enum: ['Ed25519'] as const, required: true },
};
const reportSchema = new Schema<Stored<typeof reportPaths>>(reportPaths, subdocument);

const participantStepPaths = {
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
  attempts: count,
  lastErrorCode: nullable(String),
  nextAttemptAt: nullable(Date),
  expectedBy: nullable(Date),
  outcome: nullable(outcomeSchema),
  updatedAt: requiredDate,
};
/** One participant's progress as stored. */
export type ParticipantStepDocument = Stored<typeof participantStepPaths>;
const participantStepSchema = new Schema<ParticipantStepDocument>(
  participantStepPaths,
  subdocument,
);

const sealedPaths = {
  reason: String,
  reviewNote: String,
  contact: String,
  extensionReason: String,
};
const sealedSchema = new Schema<Stored<typeof sealedPaths>>(sealedPaths, subdocument);

const retentionPaths = {
  sweptAt: requiredDate,
  reportSha256: nullable(String),
  snapshotsPruned: { type: Boolean, required: true },
};
const retentionSchema = new Schema<Stored<typeof retentionPaths>>(retentionPaths, subdocument);

const deadlineExtensionPaths = {
  previousDeadline: requiredDate,
  reason: { type: String, default: '' },
  actor: { type: actorSchema, required: true },
  at: requiredDate,
  traceId: { type: String, default: '' },
};
const deadlineExtensionSchema = new Schema<Stored<typeof deadlineExtensionPaths>>(
  deadlineExtensionPaths,
  subdocument,
);

const owedNoticePaths = {
  key: requiredString,
  kind: { type: String, enum: noticeKinds, required: true },
  attempts: count,
  /** Absent on entries written before it existed (their dueAt stands in). */
  owedAt: addedLater(Date),
  dueAt: requiredDate,
  deadline: nullable(Date),
  purgeAt: nullable(Date),
  reason: nullable(String),
};
/** A notice owed to the subject: its kind, and the facts of that kind (null when it has none). */
export type OwedNoticeDocument = Stored<typeof owedNoticePaths>;
const owedNoticeSchema = new Schema<OwedNoticeDocument>(owedNoticePaths, subdocument);

const sentNoticePaths = {
  key: requiredString,
  kind: { type: String, enum: noticeKinds, required: true },
  outcome: { type: String, enum: ['SENT', 'UNDELIVERABLE'] as const, required: true },
  channel: nullable(String),
  messageId: nullable(String),
  at: requiredDate,
};
/** A notice sent or given up on. */
export type SentNoticeDocument = Stored<typeof sentNoticePaths>;
const sentNoticeSchema = new Schema<SentNoticeDocument>(sentNoticePaths, subdocument);

const ownerAlertPaths = {
  participant: requiredString,
  team: requiredString,
  reason: nullable(String),
  traceId: { type: String, default: '' },
  owedAt: requiredDate,
  status: {
    type: String,
    enum: every<OwnerAlertStatus>({ OWED: true, SENT: true, GIVEN_UP: true, NO_WEBHOOK: true }),
    required: true,
  },
  attempts: count,
  dueAt: nullable(Date),
  settledAt: nullable(Date),
};
/** An alert to a linked service's owner, owed or settled. */
export type OwnerAlertDocument = Stored<typeof ownerAlertPaths>;
const ownerAlertSchema = new Schema<OwnerAlertDocument>(ownerAlertPaths, subdocument);

const deletionRequestPaths = {
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
  /** Absent on documents written before extensions existed; its reason is sealed. */
  deadlineExtension: addedLater(nullable(deadlineExtensionSchema)),
  reviewer: nullable(actorSchema),
  reviewNote: nullable(String),
  accountSynced: { type: Boolean, required: true },
  /** Absent on documents written before linked services existed. */
  participants: addedLater({ type: Map, of: participantStepSchema, default: {} }),
  report: addedLater(nullable(reportSchema)),
  notices: addedLater(nullable(noticesSchema)),
  /** Absent on documents written before it was recorded. */
  localErasure: addedLater(nullable(localErasureSchema)),
  /** Absent on documents written before the final notice existed. */
  finalNotice: addedLater(nullable(finalNoticeSchema)),
  /** Absent on documents written before the outbox existed. */
  outbox: addedLater({ type: [owedNoticeSchema], default: [] }),
  /** Absent on documents written before owners were alerted. */
  ownerAlerts: addedLater({ type: [ownerAlertSchema], default: [] }),
  /**
   * The earliest `dueAt` of the outbox and of the owner alerts owed (null when
   * none is owed): what the worker queries by.
   */
  outboxDueAt: addedLater(nullable(Date)),
  /**
   * Notices are owed (Suspend/Restore calls, or the outbox): the equality the
   * worker's query leads with, which FerretDB 1.x serves from an index (its
   * ranges and `$or` are evaluated in Go over every document they reach).
   * Absent on documents from before it, until `migrate` sets it.
   */
  noticesOwed: addedLater(Boolean),
  /** COMPLETED and the subject's key not destroyed yet: the shredder's query, as an equality. */
  keyToShred: addedLater(Boolean),
  sentNotices: addedLater({ type: [sentNoticeSchema], default: [] }),
  /** Absent on documents written before crypto-shredding. */
  subjectKeyDestroyedAt: addedLater(nullable(Date)),
  /** Set when the retention sweep cut the request down; absent before sweeps existed. */
  retention: addedLater(nullable(retentionSchema)),
  /**
   * The subject's personal data, each value encrypted with their data key
   * (see sealed-personal-data.ts); the plain fields are then blank. Absent
   * on documents written before crypto-shredding, whose plain fields hold it.
   */
  sealed: addedLater(nullable(sealedSchema)),
  leaseOwner: nullable(String),
  leaseUntil: nullable(Date),
  /** The entity's key, or `none:<id>` when it has none (FerretDB has no partial indexes). */
  idempotencyKey: requiredString,
  requestFingerprint: requiredString,
  /** The trace the request was made in ('' when unknown; missing in documents older than the field). */
  createTraceId: addedLater({ type: String, default: '' }),
  createSpanId: addedLater({ type: String, default: '' }),
  history: { type: [stateChangeSchema], default: [] },
  /** Changes known in the audit log; absent on documents written when every change was appended at once. */
  auditedThrough: addedLater({ type: Number, min: 0 }),
  /** Sent notices known in the audit log; absent on documents older than their events. */
  auditedNotices: addedLater({ type: Number, min: 0 }),
  /** Linked services whose final answer is known in the audit log; absent on documents older than their events. */
  auditedAnswers: addedLater({ type: [String], default: undefined }),
  /** Linked services whose settled owner alert is known in the audit log; absent on documents older than their events. */
  auditedAlerts: addedLater({ type: [String], default: undefined }),
  /** When the first fact not known in the audit log was recorded (null: none owed): what the worker queries by. */
  auditDueAt: addedLater(nullable(Date)),
  /** The subject id while the request is active, else `closed:<id>`: one active request per subject. */
  activeKey: requiredString,
};
/** A deletion request as stored: the entity plus two fields that exist only for uniqueness. */
export type DeletionRequestDocument = Stored<typeof deletionRequestPaths>;
const deletionRequestSchema = new Schema<DeletionRequestDocument>(deletionRequestPaths, {
  ...strictness,
  collection: DELETION_REQUESTS,
  id: false,
  autoCreate: false,
});
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
