import type { ErasureOutcome, ParticipantStep } from './erasure-steps.js';
import type { OwnerAlert } from './owner-alerts.js';

/**
 * How far the audit log is known to hold what a request records: each state
 * change, each notice to the subject sent (or given up), each linked
 * service's final answer and each alert to a linked service's owner sent
 * (or given up) is an event, owed by the write that records it.
 * Marks only grow; what lies past them is owed.
 */
export interface AuditMarks {
  /** Changes of `history` in the log (a prefix). */
  readonly changes: number;
  /** Notices of `sentNotices` in the log (a prefix). */
  readonly notices: number;
  /** Linked services whose final answer is in the log. */
  readonly answers: readonly string[];
  /** Linked services whose owner alert (settled) is in the log. */
  readonly alerts: readonly string[];
}

/** What a request records that calls for audit events (a deletion request is one). */
export interface AuditedFacts {
  readonly history: readonly { readonly at: Date }[];
  readonly sentNotices: readonly { readonly at: Date }[];
  readonly participants: Readonly<Record<string, Pick<ParticipantStep, 'outcome' | 'updatedAt'>>>;
  readonly ownerAlerts: readonly Pick<OwnerAlert, 'participant' | 'status' | 'settledAt'>[];
}

/** Marks of a request nothing of which is in the log. */
export const NOTHING_AUDITED: AuditMarks = { changes: 0, notices: 0, answers: [], alerts: [] };

/** Whether an outcome is a linked service's own answer (MANUAL: an administrator's, audited as an admin action). */
export const isServiceAnswer = (kind: ErasureOutcome['kind']): boolean => kind !== 'MANUAL';

/** The linked services that gave the request their own final answer, with it and when. */
export const serviceAnswers = (
  request: Pick<AuditedFacts, 'participants'>,
): { readonly participant: string; readonly outcome: ErasureOutcome; readonly at: Date }[] =>
  Object.entries(request.participants).flatMap(([participant, step]) =>
    step.outcome === null || !isServiceAnswer(step.outcome.kind)
      ? []
      : [{ participant, outcome: step.outcome, at: step.updatedAt }],
  );

/** The alerts to linked services' owners that settled (sent or given up), with when. */
export const settledAlerts = (
  request: Pick<AuditedFacts, 'ownerAlerts'>,
): (Pick<OwnerAlert, 'participant'> & { readonly status: string; readonly at: Date })[] =>
  request.ownerAlerts.flatMap(({ participant, status, settledAt }) =>
    status === 'OWED' || settledAt === null ? [] : [{ participant, status, at: settledAt }],
  );

/** The marks of a request whose every recorded fact is in the log. */
export const everythingAudited = (request: AuditedFacts): AuditMarks => ({
  changes: request.history.length,
  notices: request.sentNotices.length,
  answers: serviceAnswers(request).map(({ participant }) => participant),
  alerts: settledAlerts(request).map(({ participant }) => participant),
});

/** What any of `marks` says is in the log. */
export const mergeMarks = (...marks: readonly AuditMarks[]): AuditMarks => ({
  changes: Math.max(0, ...marks.map(({ changes }) => changes)),
  notices: Math.max(0, ...marks.map(({ notices }) => notices)),
  answers: [...new Set(marks.flatMap(({ answers }) => answers))],
  alerts: [...new Set(marks.flatMap(({ alerts }) => alerts))],
});

/** `marks` cut down to what `request` records (marks learnt from a later version may say more). */
export const auditedWithin = (request: AuditedFacts, marks: AuditMarks): AuditMarks => {
  const all = everythingAudited(request);
  const known = new Set(marks.answers);
  const alerted = new Set(marks.alerts);
  return {
    changes: Math.min(all.changes, marks.changes),
    notices: Math.min(all.notices, marks.notices),
    answers: all.answers.filter((participant) => known.has(participant)),
    alerts: all.alerts.filter((participant) => alerted.has(participant)),
  };
};

/** Whether `marks` cover everything the request records. */
export const auditsAll = (request: AuditedFacts, marks: AuditMarks): boolean => {
  const answered = new Set(marks.answers);
  const alerted = new Set(marks.alerts);
  return (
    marks.changes >= request.history.length &&
    marks.notices >= request.sentNotices.length &&
    serviceAnswers(request).every(({ participant }) => answered.has(participant)) &&
    settledAlerts(request).every(({ participant }) => alerted.has(participant))
  );
};

/**
 * When the earliest fact the log is not known to hold was recorded (what
 * the worker looks for, past a grace), or null when it holds all.
 */
export const auditDueAt = (
  request: AuditedFacts & { readonly audited: AuditMarks },
): Date | null => {
  const { audited } = request;
  const answered = new Set(audited.answers);
  const alerted = new Set(audited.alerts);
  const owed = [
    request.history[audited.changes]?.at,
    request.sentNotices[audited.notices]?.at,
    ...serviceAnswers(request)
      .filter(({ participant }) => !answered.has(participant))
      .map(({ at }) => at),
    ...settledAlerts(request)
      .filter(({ participant }) => !alerted.has(participant))
      .map(({ at }) => at),
  ];
  return owed.reduce<Date | null>(
    (earliest, at) => (at === undefined || (earliest !== null && earliest <= at) ? earliest : at),
    null,
  );
};
