/** What the service erased in its own stores. */
export interface LocalErasureCounts {
  readonly accounts: number;
  readonly sessions: number;
  readonly apiTokens: number;
}

/** The local erasure as the request records it, once done (a later pass or a crash keeps its counts). */
export interface LocalErasureRecord extends LocalErasureCounts {
  readonly at: Date;
}

/**
 * What a linked service holds as registered when the report is signed: its
 * owning team, the data categories the deletion covers there (empty: all it
 * holds) and the legal basis it cites when it keeps something.
 */
export interface RegisteredHoldings {
  readonly team: string | null;
  readonly categories: readonly string[];
  readonly legalBasis: string | null;
}

/** One linked service in the report: what it erased, what it kept and why, and what it holds as registered. */
export interface ReportedParticipant {
  readonly name: string;
  readonly outcome: string;
  /** Records erased (for RETAINED: the ones it erased besides what it kept). */
  readonly records: number;
  /** ERASED: the categories erased; RETAINED: the categories kept. */
  readonly categories: readonly string[];
  /** Why it kept data (RETAINED): its answer's legal basis, else its registered one. */
  readonly legalBasis: string | null;
  /** Where `legalBasis` comes from. */
  readonly legalBasisSource: 'ANSWER' | 'REGISTRATION' | null;
  readonly retainedUntil: string | null;
  readonly justification: string | null;
  readonly answeredAt: string;
  /** Null when the service was no longer registered at completion. */
  readonly registered: RegisteredHoldings | null;
}

/**
 * The evidence of one completed erasure, as signed. Ids, counts and legal
 * bases only. Version 2 added, per linked service, what it holds as
 * registered and where its legal basis comes from (version 1 reports, signed
 * before, lack them and still verify).
 */
export interface ErasureReportContent {
  readonly version: 2;
  readonly deletionRequest: string;
  readonly subjectId: string;
  readonly jurisdiction: string;
  readonly requestedAt: string;
  readonly legalDeadline: string;
  readonly completedAt: string;
  readonly local: LocalErasureCounts;
  readonly participants: readonly ReportedParticipant[];
}

/** A signed report: the exact bytes signed (canonical JSON) and the detached signature. */
export interface SignedErasureReport {
  readonly payload: string;
  readonly signature: string;
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
}
