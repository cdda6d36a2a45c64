/** The phases a linked service can take part in. */
export type Phase = 'suspend' | 'restore' | 'erase';

/** A linked service as the domain sees it: its name, phases, retry budget and ordering. */
export interface ParticipantSpec {
  readonly name: string;
  readonly phases: readonly Phase[];
  /** Names that must have answered Erase before this one is called. */
  readonly after: readonly string[];
  /** Calls (first one included) before a failing step needs attention. */
  readonly maxAttempts: number;
  /** The principal id the service reports outcomes as (ReportErasureOutcome). */
  readonly identity: string;
  /** Which subject id the service is given: the real one (default) or its keyed pseudonym. */
  readonly subjectId?: 'real' | 'pseudonym';
  /** The data categories the deletion covers there (empty or absent: all it holds). */
  readonly categories?: readonly string[];
  /** The team that owns the service, and the webhook its alerts go to. */
  readonly owner?: { readonly team: string; readonly webhook?: string | undefined } | undefined;
  /** The legal basis it cites when it keeps something. */
  readonly legalBasis?: string | undefined;
}

/** A final answer to Erase. */
export type ErasureOutcome =
  | { readonly kind: 'ERASED'; readonly records: number; readonly categories: readonly string[] }
  | { readonly kind: 'NOTHING_FOUND' }
  | {
      readonly kind: 'RETAINED';
      readonly legalBasis: string;
      readonly categories: readonly string[];
      readonly until: Date | null;
      readonly erasedRecords: number;
    }
  | {
      readonly kind: 'MANUAL';
      readonly records: number;
      readonly justification: string;
      readonly resolvedBy: string;
    };

/** Where one participant's Erase stands. */
export type StepStatus = 'PENDING' | 'RETRYING' | 'ACCEPTED' | 'DONE' | 'FAILED';

/** Steps whose service has not answered yet: the purge waits on it (not failed, not done). */
export const waitingStatuses = [
  'PENDING',
  'RETRYING',
  'ACCEPTED',
] as const satisfies readonly StepStatus[];

/** Steps not finished at their service: waiting on it, or failed there (only DONE is finished). */
export const unfinishedStatuses = [
  ...waitingStatuses,
  'FAILED',
] as const satisfies readonly StepStatus[];

/** One participant's progress, kept in the request document under its name. */
export interface ParticipantStep {
  readonly status: StepStatus;
  readonly attempts: number;
  readonly lastErrorCode: string | null;
  readonly nextAttemptAt: Date | null;
  /** For ACCEPTED: when the participant promised to report. */
  readonly expectedBy: Date | null;
  readonly outcome: ErasureOutcome | null;
  readonly updatedAt: Date;
}

/** Capped exponential back-off with full jitter (AWS "Exponential Backoff And Jitter"). */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  /** A uniform random number in [0, 1). */
  readonly random: () => number;
}

/** When to try again after `attempts` failures: uniform in [0, min(cap, base·2^(attempts−1))). */
export const retryAt = (attempts: number, policy: RetryPolicy & { readonly now: Date }): Date => {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempts - 1));
  return new Date(policy.now.getTime() + Math.floor(policy.random() * ceiling));
};

/** The steps of a purge that starts now: every participant of the erase phase, pending. */
export const initialSteps = (
  specs: readonly ParticipantSpec[],
  now: Date,
): Record<string, ParticipantStep> =>
  Object.fromEntries(
    specs
      .filter((spec) => spec.phases.includes('erase'))
      .map((spec) => [
        spec.name,
        {
          status: 'PENDING',
          attempts: 0,
          lastErrorCode: null,
          nextAttemptAt: null,
          expectedBy: null,
          outcome: null,
          updatedAt: now,
        },
      ]),
  );

/**
 * The participants to call now: pending, or retrying and due, and every one
 * they come `after` has answered for good.
 */
export const dueSteps = (
  steps: Readonly<Record<string, ParticipantStep>>,
  specs: readonly ParticipantSpec[],
  now: Date,
): string[] =>
  specs
    .filter((spec) => {
      const step = steps[spec.name];
      if (step === undefined) return false;
      const due =
        step.status === 'PENDING' ||
        (step.status === 'RETRYING' && (step.nextAttemptAt ?? now) <= now);
      return (
        due &&
        spec.after.every((name) => steps[name] === undefined || steps[name].status === 'DONE')
      );
    })
    .map((spec) => spec.name);

/** Records a final answer (or an ACCEPTED one, which waits for a report). */
export const recordAnswer = (
  step: ParticipantStep,
  answer: { readonly outcome: ErasureOutcome } | { readonly expectedBy: Date },
  now: Date,
): ParticipantStep =>
  'outcome' in answer
    ? {
        ...step,
        status: 'DONE',
        attempts: step.attempts + 1,
        outcome: answer.outcome,
        nextAttemptAt: null,
        lastErrorCode: null,
        updatedAt: now,
      }
    : {
        ...step,
        status: 'ACCEPTED',
        attempts: step.attempts + 1,
        expectedBy: answer.expectedBy,
        nextAttemptAt: null,
        lastErrorCode: null,
        updatedAt: now,
      };

/**
 * Records a failed call. A retryable failure within the budget is tried again
 * after a capped, fully jittered delay; otherwise the step FAILED.
 */
export const recordFailure = (
  step: ParticipantStep,
  failure: { readonly code: string; readonly retryable: boolean },
  policy: RetryPolicy & { readonly maxAttempts: number; readonly now: Date },
): ParticipantStep => {
  const attempts = step.attempts + 1;
  const base = { ...step, attempts, lastErrorCode: failure.code, updatedAt: policy.now };
  if (!failure.retryable || attempts >= policy.maxAttempts) {
    return { ...base, status: 'FAILED', nextAttemptAt: null };
  }
  return { ...base, status: 'RETRYING', nextAttemptAt: retryAt(attempts, policy) };
};

/**
 * The steps of a purge resumed under the current registry: a service added
 * since the purge started gets a pending step (it may hold data too); a
 * service no longer registered for erasure that has not answered for good
 * fails (`UNREGISTERED`), so the request needs attention instead of waiting
 * forever for a call that will never be made; an operator resolves it or
 * registers the service again and retries.
 */
export const reconcileSteps = (
  steps: Readonly<Record<string, ParticipantStep>>,
  specs: readonly ParticipantSpec[],
  now: Date,
): Record<string, ParticipantStep> => {
  const erasing = new Set(
    specs.filter((spec) => spec.phases.includes('erase')).map((spec) => spec.name),
  );
  const reconciled: Record<string, ParticipantStep> = { ...initialSteps(specs, now) };
  for (const [name, step] of Object.entries(steps)) {
    reconciled[name] =
      erasing.has(name) || step.status === 'DONE' || step.status === 'FAILED'
        ? step
        : {
            ...step,
            status: 'FAILED',
            lastErrorCode: 'UNREGISTERED',
            nextAttemptAt: null,
            updatedAt: now,
          };
  }
  return reconciled;
};

/** Where a purge stands after a round of calls. */
export type ErasureVerdict =
  | { readonly kind: 'ALL_ANSWERED' }
  | { readonly kind: 'NEEDS_ATTENTION'; readonly failed: readonly string[] }
  | { readonly kind: 'WAITING'; readonly wakeAt: Date };

/**
 * The verdict on a purge's steps: every one answered for good, or some failed
 * (or an ACCEPTED one missed its promise, which then counts as failed), or the
 * earliest retry or promised report (a pending step waits for the ones it
 * comes after: judged after a round of calls, it was not due).
 */
export const judgeSteps = (
  steps: Readonly<Record<string, ParticipantStep>>,
  now: Date,
): { readonly steps: Record<string, ParticipantStep>; readonly verdict: ErasureVerdict } => {
  const judged: Record<string, ParticipantStep> = {};
  for (const [name, step] of Object.entries(steps)) {
    const overdue =
      step.status === 'ACCEPTED' && step.expectedBy !== null && step.expectedBy <= now;
    judged[name] = overdue
      ? { ...step, status: 'FAILED', lastErrorCode: 'REPORT_OVERDUE', updatedAt: now }
      : step;
  }
  const all = Object.entries(judged);
  const failed = all.filter(([, step]) => step.status === 'FAILED').map(([name]) => name);
  if (failed.length > 0) return { steps: judged, verdict: { kind: 'NEEDS_ATTENTION', failed } };
  if (all.every(([, step]) => step.status === 'DONE'))
    return { steps: judged, verdict: { kind: 'ALL_ANSWERED' } };
  const wakeTimes = all.flatMap(([, step]) =>
    step.status === 'RETRYING' && step.nextAttemptAt
      ? [step.nextAttemptAt.getTime()]
      : step.status === 'ACCEPTED' && step.expectedBy
        ? [step.expectedBy.getTime()]
        : [],
  );
  // A step still pending after a round of calls waits on one it comes `after`, whose retry or
  // report is the time to look again; only with no such time is it due now.
  const wakeAt = wakeTimes.length > 0 ? new Date(Math.min(...wakeTimes)) : now;
  return { steps: judged, verdict: { kind: 'WAITING', wakeAt } };
};

/** Names in a dependency cycle of `after`, or [] when the order is a DAG. */
export const dependencyCycle = (specs: readonly ParticipantSpec[]): string[] => {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): string[] => {
    if (state.get(name) === 'done') return [];
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const next of byName.get(name)?.after ?? []) {
      const cycle = visit(next, [...path, name]);
      if (cycle.length > 0) return cycle;
    }
    state.set(name, 'done');
    return [];
  };
  for (const spec of specs) {
    const cycle = visit(spec.name, []);
    if (cycle.length > 0) return cycle;
  }
  return [];
};
