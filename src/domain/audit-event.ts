import type { Actor } from './principal.js';

/**
 * What the audit log records (docs/design.md §4): every transition, approval,
 * privileged read and admin action, each retention sweep of a request, each
 * linked service's final answer, each notice sent to a subject and each
 * alert to a linked service's owner sent or given up.
 */
export const auditKinds = [
  'STATE_CHANGED',
  'PRIVILEGED_READ',
  'ADMIN_ACTION',
  'ERASURES_PAUSED',
  'ERASURES_RESUMED',
  'KEY_DESTROYED',
  'RECORD_SWEPT',
  'PARTICIPANT_ANSWERED',
  'NOTICE_SENT',
  'OWNER_ALERTED',
] as const;

/** A kind of audit event. */
export type AuditKind = (typeof auditKinds)[number];

/** Something that happened, as a use case records it. */
export interface AuditEntry {
  readonly kind: AuditKind;
  readonly at: Date;
  readonly actor: Actor;
  /** The request it concerns, if any. */
  readonly deletionRequestId: string | null;
  /** The subject, only as its keyed pseudonym; null when none is concerned. */
  readonly subjectPseudonym: string | null;
  /** What exactly (states, notes, trace ids, reasons): stored only encrypted. */
  readonly details: Readonly<Record<string, string>>;
  /** Appended once per key: a repeat of the same entry (a retry) is not a second event. */
  readonly key: string;
}

/** An event in the log: the entry in its place in the chain, its details sealed. */
export interface AuditEvent {
  /** 1, 2, 3 … with no gaps: the event's place in the chain. */
  readonly sequence: number;
  readonly key: string;
  readonly kind: AuditKind;
  readonly at: Date;
  readonly actor: Actor;
  readonly deletionRequestId: string | null;
  readonly subjectPseudonym: string | null;
  /** The details, encrypted and authenticated (AES-256-GCM). */
  readonly sealedDetails: string;
  /** The hash of the event before (GENESIS_HASH for the first). */
  readonly previousHash: string;
  /** A keyed hash of everything above: changing any of it, or the order, breaks the chain. */
  readonly hash: string;
}

/** Which events a listing wants; every field is optional and they combine with AND. */
export interface AuditFilter {
  readonly kind?: AuditKind | undefined;
  readonly deletionRequestId?: string | undefined;
  readonly subjectPseudonym?: string | undefined;
  /** At or after. */
  readonly from?: Date | undefined;
  /** Before. */
  readonly until?: Date | undefined;
}

/** The previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** What the chain hash covers, in a fixed order (the sequence included, so events cannot move). */
export const chainedContent = (event: Omit<AuditEvent, 'hash'>): string =>
  JSON.stringify([
    event.sequence,
    event.key,
    event.kind,
    event.at.toISOString(),
    event.actor.kind,
    event.actor.id,
    event.deletionRequestId,
    event.subjectPseudonym,
    event.sealedDetails,
    event.previousHash,
  ]);

/** Why the chain breaks at a sequence. */
export type BrokenLink =
  /** No event holds this sequence, though later ones (or the recorded head) say it was written. */
  | 'MISSING'
  /** The event's content does not match its hash (changed, moved, or forged without the key). */
  | 'ALTERED'
  /** The event does not name the hash of the one before it. */
  | 'UNLINKED';

/** The result of checking the chain. */
export type AuditVerdict =
  | { readonly intact: true; readonly events: number }
  | {
      readonly intact: false;
      readonly events: number;
      readonly firstBadSequence: number;
      readonly problem: BrokenLink;
    };

/**
 * Checks a stretch of the chain: `events` in stored order, starting right
 * after `previous` (sequence and hash; 0 and GENESIS_HASH at the start).
 * Returns the first broken link, or where the stretch ends.
 */
export const checkStretch = (
  events: readonly AuditEvent[],
  previous: { readonly sequence: number; readonly hash: string },
  mac: (content: string) => string,
): {
  readonly broken: { sequence: number; problem: BrokenLink } | null;
  readonly last: typeof previous;
} => {
  let last = previous;
  for (const event of events) {
    const expected = last.sequence + 1;
    if (event.sequence !== expected)
      return { broken: { sequence: expected, problem: 'MISSING' }, last };
    const { hash, ...content } = event;
    if (mac(chainedContent(content)) !== hash)
      return { broken: { sequence: expected, problem: 'ALTERED' }, last };
    if (event.previousHash !== last.hash)
      return { broken: { sequence: expected, problem: 'UNLINKED' }, last };
    last = { sequence: event.sequence, hash };
  }
  return { broken: null, last };
};

/** The key of the event of a request's `index`-th state change. */
export const changeKey = (deletionRequestId: string, index: number): string =>
  `${deletionRequestId}#change#${String(index)}`;

/** The key of the event of a linked service's final answer about a request. */
export const answerKey = (deletionRequestId: string, participant: string): string =>
  `${deletionRequestId}#answer#${participant}`;

/** The key of the event of a notice sent (or given up) about a request. */
export const noticeKey = (deletionRequestId: string, notice: string): string =>
  `${deletionRequestId}#notice#${notice}`;

/** The key of the event of an alert to a linked service's owner about a request. */
export const alertKey = (deletionRequestId: string, participant: string): string =>
  `${deletionRequestId}#owner_alert#${participant}`;

/** Something a request records that has no event in the log: what completeness names. */
export interface AuditGap {
  readonly deletionRequestId: string;
  /** The key the missing event would have. */
  readonly key: string;
  readonly kind: AuditKind;
  /** What happened, without personal data: `SCHEDULED → ERASING`, `crm: ERASED`, `COMPLETED notice`. */
  readonly what: string;
  readonly at: Date;
}

/** Whether every change, final answer and notice that requests record has its event. */
export interface AuditCompleteness {
  readonly complete: boolean;
  /** Requests checked. */
  readonly requests: number;
  /** Events their records call for. */
  readonly expected: number;
  /** Of those, events still on their way (owed by a write of the last minute): not gaps yet. */
  readonly owed: number;
  readonly gapCount: number;
  /** The first gaps, at most MAX_NAMED_GAPS. */
  readonly gaps: readonly AuditGap[];
}

/** How many gaps a verification names at most (it counts them all). */
export const MAX_NAMED_GAPS = 100;
