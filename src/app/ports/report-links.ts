import type { DeletionRequestId } from '../../domain/ids.js';

/**
 * Links to a completed request's signed erasure report that work without an
 * account (the subject's is gone by then): unguessable, expiring, and good
 * for that one report only.
 */
export interface ReportLinks {
  /** The link for the completion notice, made at `now`; null when none is configured (ask support). */
  urlFor(deletionRequestId: DeletionRequestId, now: Date): string | null;
  /** Whether `token` is one `urlFor` made for this request, not yet expired at `now`. */
  verify(deletionRequestId: string, token: string, now: Date): boolean;
}
