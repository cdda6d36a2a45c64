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

/** The evidence of one completed erasure, as signed. Ids, counts and legal bases only. */
export interface ErasureReportContent {
  readonly version: 1;
  readonly deletionRequest: string;
  readonly subjectId: string;
  readonly jurisdiction: string;
  readonly requestedAt: string;
  readonly legalDeadline: string;
  readonly completedAt: string;
  readonly local: LocalErasureCounts;
  readonly participants: readonly {
    readonly name: string;
    readonly outcome: string;
    readonly records: number;
    readonly categories: readonly string[];
    readonly legalBasis: string | null;
    readonly retainedUntil: string | null;
    readonly justification: string | null;
    readonly answeredAt: string;
  }[];
}

/** A signed report: the exact bytes signed (canonical JSON) and the detached signature. */
export interface SignedErasureReport {
  readonly payload: string;
  readonly signature: string;
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
}
