import type { DeletionRequestId, SubjectId } from '../../domain/ids.js';
import type { ErasureOutcome, ParticipantSpec } from '../../domain/erasure-steps.js';

/** A linked service's answer to Erase: final, or accepted for a later report. */
export type EraseAnswer = { readonly outcome: ErasureOutcome } | { readonly expectedBy: Date };

/** What one Erase call carries. */
export interface EraseCall {
  readonly deletionRequestId: DeletionRequestId;
  readonly subjectId: SubjectId;
  /** When the service needs a final answer by (the legal deadline). */
  readonly finalAnswerDeadline: Date;
}

/** The calls (Suspend, Restore, Erase) this replica made to one linked service lately. */
export interface RecentCalls {
  /**
   * How far back the figures reach: the whole window, or less when more
   * calls were made in it than are kept (only those after the newest dropped one count).
   */
  readonly windowMs: number;
  readonly calls: number;
  /** Calls that failed: an error status, a timeout, or an answer refused as a mismatch. */
  readonly failures: number;
  /** Latency percentiles of those calls (milliseconds); null when there were none. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
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
  /** The calls this replica made to `name` in its recent window (in memory: per replica, lost at restart). */
  recentCalls(name: string): RecentCalls;
}
