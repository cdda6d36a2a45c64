import type { DeletionRequestId } from '../../domain/ids.js';
import type { LocalErasureRecord } from '../../domain/erasure-report.js';
import type { SentNotice } from '../../domain/subject-notice.js';

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
