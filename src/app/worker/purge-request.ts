import { compareAndSet } from '../common/compare-and-set.js';
import { DomainError, concurrentUpdate } from '../../domain/domain-error.js';
import type { ChangeContext, DeletionRequest } from '../../domain/deletion-request.js';
import {
  dueSteps,
  initialSteps,
  judgeSteps,
  reconcileSteps,
  recordAnswer,
  recordFailure,
  type ParticipantStep,
} from '../../domain/erasure-steps.js';
import { erasureReportContent } from '../../domain/erasure-report-content.js';
import type { LocalErasureRecord, SignedErasureReport } from '../../domain/erasure-report.js';
import { complete, needAttention, startErasing } from '../../domain/lifecycle.js';
import {
  afterFinalNotice,
  finalNoticeFor,
  hasAddress,
  type FinalNotice,
} from '../../domain/notices.js';
import { oweOwnerAlerts } from '../../domain/owner-alerts.js';
import { systemActor } from '../../domain/principal.js';
import { bounded } from '../common/bounded.js';
import type { DeletionDeps } from '../deletion-deps.js';
import type { Admission } from '../../domain/erasure-breaker.js';
import { admitToErasure } from '../admin/erasure-breaker.js';
import type { EraseAnswer } from '../ports/participants.js';
import {
  sentNoticeOf,
  type NoticeSendResult,
  type SentNotice,
} from '../../domain/subject-notice.js';
import { destroySubjectKey } from './shred-subject-key.js';
import { undeliverable } from '../notices/send-owed-notices.js';
import { attributeKeys, spanEvents, stepSpans } from '../../telemetry/catalogue.js';

/** The ports a purge uses, from the breaker's admission to the ledger and the key's destruction. */
export type PurgeDeps = Pick<
  DeletionDeps,
  | 'accounts'
  | 'audit'
  | 'breaker'
  | 'clock'
  | 'ledger'
  | 'metrics'
  | 'notifier'
  | 'ownerAlerts'
  | 'participants'
  | 'policy'
  | 'pseudonymOf'
  | 'reportLinks'
  | 'requests'
  | 'shredding'
  | 'signer'
  | 'trace'
>;

/**
 * How a purge pass for one request ended. PAUSED: the mass-deletion breaker
 * holds erasures (the request stays SCHEDULED); TRIPPED: this request's start
 * tripped it.
 */
export type PurgeResult =
  'COMPLETED' | 'NEEDS_ATTENTION' | 'WAITING' | 'LOST_RACE' | 'PAUSED' | 'TRIPPED' | 'STOPPED';

/**
 * How a pass is told to stop (the process is shutting down): once `signal`
 * aborts it starts nothing new, and each purge under way waits at most
 * `drainMs` for the linked services it already called, then records where it
 * is and releases its lease.
 */
export interface PassStop {
  readonly signal: AbortSignal;
  readonly drainMs: number;
}

const context = (deps: Pick<DeletionDeps, 'clock' | 'trace'>): ChangeContext => ({
  actor: systemActor('purge-worker'),
  now: deps.clock.now(),
  ...deps.trace.current(),
});

type Change = (request: DeletionRequest) => DeletionRequest;

const leaseLost = (): DomainError =>
  new DomainError({
    code: 'ABORTED',
    reason: 'LEASE_LOST',
    message: 'the purge lost its lease to another worker',
  });

/** The recorder writes once no new answer came for QUIET_MS, or COALESCE_CAP_MS after the first. */
const QUIET_MS = 5;
const COALESCE_CAP_MS = 50;

/**
 * Writes the purge's progress on top of the newest version (re-reading when
 * someone else wrote in between, e.g. an administrator). Changes that arrive
 * while a write is in flight are written together in the next one (group
 * commit), so twenty answers cost a few writes, not twenty; each caller's
 * promise resolves only once its change is durable.
 */
const createRecorder = (deps: Pick<DeletionDeps, 'clock' | 'requests'>, start: DeletionRequest) => {
  let current = start;
  const owner = start.leaseOwner;
  let pending: { change: Change; done: () => void; fail: (error: unknown) => void }[] = [];
  let flushing: Promise<void> | undefined;
  const write = async (changes: readonly Change[]): Promise<void> => {
    current = await compareAndSet<DeletionRequest, DeletionRequest>({
      start: current,
      tries: 4,
      decide: (base) => {
        const changed = changes.reduce((request, change) => change(request), base);
        const next = { ...changed, version: base.version + 1, updatedAt: deps.clock.now() };
        return { next, result: next };
      },
      save: (next, base) => deps.requests.update(next, base),
      reread: async () => {
        const fresh = await deps.requests.findById(current.id);
        // Another worker took the purge over (this one's lease ran out): its results win.
        if (fresh?.state !== 'ERASING' || fresh.leaseOwner !== owner) throw leaseLost();
        return fresh;
      },
      gone: () => {
        throw leaseLost();
      },
      exhausted: () => {
        throw concurrentUpdate('the purge lost its request');
      },
    });
  };
  let lastArrival = 0;
  /** Answers of one round arrive within milliseconds of each other: let them gather. */
  const gather = async (): Promise<void> => {
    const first = Date.now();
    while (Date.now() - lastArrival < QUIET_MS && Date.now() - first < COALESCE_CAP_MS) {
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    }
  };
  const flush = async (): Promise<void> => {
    await gather();
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      await write(batch.map((item) => item.change)).then(
        () => batch.forEach((item) => item.done()),
        (error: unknown) => batch.forEach((item) => item.fail(error)),
      );
    }
    flushing = undefined;
  };
  return {
    current: () => current,
    apply: (change: Change): Promise<void> =>
      new Promise((resolve, reject) => {
        pending.push({ change, done: resolve, fail: reject });
        lastArrival = Date.now();
        flushing ??= flush();
      }),
  };
};

const withStep = (
  request: DeletionRequest,
  name: string,
  step: ParticipantStep,
): DeletionRequest => ({
  ...request,
  participants: { ...request.participants, [name]: step },
});

/** Calls Erase on one linked service and records what came back, answer or failure. */
const callOne = async (
  deps: Pick<DeletionDeps, 'clock' | 'metrics' | 'participants' | 'policy' | 'trace'>,
  recorder: ReturnType<typeof createRecorder>,
  name: string,
): Promise<void> => {
  const request = recorder.current();
  const attempt = (request.participants[name]?.attempts ?? 0) + 1;
  const spec = deps.participants.specs.find((candidate) => candidate.name === name);
  let outcome: { answer: EraseAnswer } | { failure: DomainError };
  try {
    const answer = await deps.trace.inSpan(
      stepSpans.participantErase,
      {
        [attributeKeys.participant]: name,
        [attributeKeys.attempt]: String(attempt),
        [attributeKeys.requestId]: request.id,
      },
      async () => {
        const answered = await deps.participants.erase(name, {
          deletionRequestId: request.id,
          subjectId: request.subjectId,
          finalAnswerDeadline: request.legalDeadline,
        });
        deps.trace.annotate({
          [attributeKeys.participantOutcome]:
            'outcome' in answered ? answered.outcome.kind : 'ACCEPTED',
        });
        return answered;
      },
    );
    outcome = { answer };
  } catch (error) {
    outcome = { failure: DomainError.from(error) };
  }
  const now = deps.clock.now();
  await recorder.apply((current) => {
    const step = current.participants[name];
    if (step === undefined) return current;
    if ('answer' in outcome)
      return withStep(current, name, recordAnswer(step, outcome.answer, now));
    const failure = {
      code: outcome.failure.reason,
      retryable: outcome.failure.metadata.retryable === 'true',
    };
    const policy = { ...deps.policy.retry, maxAttempts: spec?.maxAttempts ?? 1, now };
    return withStep(current, name, recordFailure(step, failure, policy));
  });
  const step = recorder.current().participants[name];
  if ('failure' in outcome && step !== undefined) {
    const retryAt = step.status === 'RETRYING' ? step.nextAttemptAt : null;
    deps.metrics.participantFailed({
      participant: name,
      phase: 'erase',
      reason: outcome.failure.reason,
      retrying: retryAt !== null,
    });
    deps.trace.event(retryAt === null ? spanEvents.gaveUp : spanEvents.retryScheduled, {
      [attributeKeys.participant]: name,
      [attributeKeys.attempt]: String(step.attempts),
      [attributeKeys.errorReason]: outcome.failure.reason,
      ...(retryAt !== null && {
        [attributeKeys.retryInMs]: String(retryAt.getTime() - now.getTime()),
      }),
    });
  }
};

/** Erases the account's own data, unless an earlier pass recorded that it did. */
const eraseLocal = async (
  deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'trace'>,
  request: DeletionRequest,
): Promise<LocalErasureRecord> =>
  request.localErasure ??
  deps.trace.inSpan(stepSpans.eraseLocal, { [attributeKeys.requestId]: request.id }, async () => ({
    ...(await deps.accounts.erase(request.subjectId)),
    at: deps.clock.now(),
  }));

/**
 * Erases the account's own data before the fan-out (`LOCAL_ERASURE=first`)
 * and records what went at once: the fan-out may take days.
 */
const recordLocalErasure = async (
  deps: Pick<DeletionDeps, 'accounts' | 'clock' | 'trace'>,
  recorder: ReturnType<typeof createRecorder>,
): Promise<void> => {
  if (recorder.current().localErasure !== null) return;
  const local = await eraseLocal(deps, recorder.current());
  await recorder.apply((current) => ({ ...current, localErasure: current.localErasure ?? local }));
};

/** Calls every due linked service (more as `after` orderings unblock them), in parallel, bounded. */
const fanOut = async (
  deps: Pick<DeletionDeps, 'clock' | 'metrics' | 'participants' | 'policy' | 'trace'>,
  recorder: ReturnType<typeof createRecorder>,
  stop: AbortSignal | undefined,
): Promise<void> => {
  // Each service is called at most once per pass: a failed call waits for its
  // back-off and a later pass, even when the jittered delay came out near zero.
  const called = new Set<string>();
  const rounds = deps.participants.specs.length + 1;
  for (let round = 0; round < rounds && stop?.aborted !== true; round += 1) {
    const due = dueSteps(
      recorder.current().participants,
      deps.participants.specs,
      deps.clock.now(),
    ).filter((name) => !called.has(name));
    if (due.length === 0) return;
    for (const name of due) called.add(name);
    await bounded(due, deps.policy.fanOutConcurrency, async (name) => {
      if (stop?.aborted !== true) await callOne(deps, recorder, name);
    });
  }
};

/**
 * Waits for the fan-out, or, once `stop` aborts, for at most `drainMs` more:
 * a linked service that hangs does not hold the shutdown. Its answer, if it
 * comes before the process ends, is still recorded.
 */
const drainOrStop = async (fanning: Promise<void>, stop: PassStop | undefined): Promise<void> => {
  if (stop === undefined) return fanning;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = (): void => undefined;
  const drained = new Promise<void>((resolve) => {
    onAbort = () => {
      timer = setTimeout(resolve, stop.drainMs);
    };
    if (stop.signal.aborted) onAbort();
    else stop.signal.addEventListener('abort', onAbort, { once: true });
  });
  // Left behind, a late failure (the lease lost meanwhile) is nobody's to handle.
  fanning.catch(() => undefined);
  try {
    await Promise.race([fanning, drained]);
  } finally {
    clearTimeout(timer);
    stop.signal.removeEventListener('abort', onAbort);
  }
};

/**
 * Judges the steps on the newest version (a report that came in during the
 * pass counts): a failed one → NEEDS_ATTENTION, owing an alert to each
 * failed service's owner in the same write; one still owed → the lease is
 * released until its retry or report is due; all answered → go on.
 */
const decide = async (
  deps: Pick<DeletionDeps, 'clock' | 'participants' | 'trace'>,
  recorder: ReturnType<typeof createRecorder>,
): Promise<'NEEDS_ATTENTION' | 'WAITING' | 'ALL_ANSWERED'> => {
  if (judgeSteps(recorder.current().participants, deps.clock.now()).verdict.kind === 'ALL_ANSWERED')
    return 'ALL_ANSWERED';
  let decision: 'NEEDS_ATTENTION' | 'WAITING' | 'ALL_ANSWERED' = 'ALL_ANSWERED';
  await recorder.apply((current) => {
    const { steps, verdict } = judgeSteps(current.participants, deps.clock.now());
    decision = verdict.kind;
    if (verdict.kind === 'NEEDS_ATTENTION') {
      const changed = context(deps);
      const stuck = needAttention({ ...current, participants: steps }, verdict.failed, changed);
      const registry = { specs: deps.participants.specs, now: changed.now };
      return oweOwnerAlerts(stuck, verdict.failed, registry);
    }
    if (verdict.kind === 'WAITING')
      return { ...current, participants: steps, leaseOwner: null, leaseUntil: verdict.wakeAt };
    return { ...current, participants: steps };
  });
  return decision;
};

/** The signed erasure report of a request whose erasure is complete now, with what went here. */
const signedReport = (
  deps: Pick<DeletionDeps, 'clock' | 'participants' | 'signer'>,
  request: DeletionRequest,
  local: LocalErasureRecord,
): SignedErasureReport => {
  const { accounts, sessions, apiTokens } = local;
  const counts = { accounts, sessions, apiTokens };
  const at = { completedAt: deps.clock.now(), specs: deps.participants.specs };
  const payload = JSON.stringify(erasureReportContent(request, counts, at));
  return { payload, ...deps.signer.sign(payload), algorithm: 'Ed25519' };
};

/** The final notice's entry in the request's `sentNotices`. */
const finalNoticeRecord = (
  result: Exclude<NoticeSendResult, { readonly outcome: 'RETRY' }>,
  at: Date,
): SentNotice => sentNoticeOf({ key: 'COMPLETED', kind: 'COMPLETED' }, result, at);

/**
 * Sends the final notice, once everything is erased and before COMPLETED
 * (docs/design.md §2), with the signed report (attached to an e-mail) and a
 * link to it that works without an account: sent or undeliverable → the
 * contact is dropped and the outcome recorded (`sent`); the channel is down
 * → due again after back-off, until the last attempt.
 */
const tellSubject = async (
  deps: Pick<DeletionDeps, 'clock' | 'notifier' | 'policy' | 'reportLinks'>,
  request: Pick<DeletionRequest, 'id' | 'finalNotice' | 'report'>,
): Promise<{ readonly notice: FinalNotice | null; readonly sent: SentNotice | null }> => {
  const { id, finalNotice: notice, report } = request;
  if (!notice?.contact) return { notice, sent: null };
  const policy = { ...deps.policy.retry, now: deps.clock.now() };
  const dropped = () => ({
    notice: afterFinalNotice(notice, 'UNDELIVERABLE', policy),
    sent: finalNoticeRecord({ outcome: 'UNDELIVERABLE' }, policy.now),
  });
  // No address left (the subject's key was destroyed early): nowhere to send it.
  if (!hasAddress(notice.contact)) return dropped();
  try {
    const receipt = await deps.notifier.send({
      notice: {
        kind: 'COMPLETED',
        deletionRequestId: id,
        completedAt: policy.now,
        reportUrl: deps.reportLinks.urlFor(id, policy.now),
        report,
      },
      to: notice.contact,
      key: `${id}/COMPLETED`,
    });
    return {
      notice: afterFinalNotice(notice, 'SENT', policy),
      sent: finalNoticeRecord({ outcome: 'SENT', ...receipt }, policy.now),
    };
  } catch (error) {
    if (undeliverable(error)) return dropped();
    const next = afterFinalNotice(notice, 'RETRY', policy);
    // Out of attempts: dropped unsent, and recorded so.
    return {
      notice: next,
      sent: next.contact ? null : finalNoticeRecord({ outcome: 'UNDELIVERABLE' }, policy.now),
    };
  }
};

/**
 * Enters the erasure in the ledger, before the key goes and before
 * COMPLETED, with what was erased here and what the subject was told: a
 * purge repeated after a crash (the account gone, maybe the key too, so
 * nothing left to count or to send to) reports what the first one did.
 */
const enterInLedger = async (
  deps: Pick<DeletionDeps, 'clock' | 'ledger' | 'pseudonymOf'>,
  request: DeletionRequest,
  done: { readonly erased: LocalErasureRecord; readonly sent: SentNotice | null },
): Promise<{ readonly local: LocalErasureRecord; readonly told: SentNotice | null }> => {
  const local = request.localErasure ?? done.erased;
  const entry = await deps.ledger.record({
    subjectPseudonym: deps.pseudonymOf(request.subjectId),
    deletionRequestId: request.id,
    erasedAt: deps.clock.now(),
    localErasure: local,
    finalNotice: done.sent,
  });
  const first = 'localErasure' in entry && entry.deletionRequestId === request.id ? entry : null;
  return first === null
    ? { local, told: done.sent }
    : { local: request.localErasure ?? first.localErasure, told: first.finalNotice };
};

/**
 * One purge pass for one request: claim it with a lease (one worker wins),
 * call Erase on every linked service that is due, in parallel and bounded,
 * recording each answer durably, then decide. Every service answered for
 * good → erase the account's own data → tell the subject → enter it in the
 * ledger → destroy the subject's data key → COMPLETED, the key's
 * destruction recorded in the same write. One failed past its
 * budget or missed its promised report → NEEDS_ATTENTION (never done).
 * Otherwise the lease is released until the next retry or report is due. A
 * worker that dies mid-way leaves a lease that expires; the next one resumes
 * from the recorded steps, and since every call is idempotent on the
 * request id, a repeated call never doubles an effect.
 */
export const purgeRequest = async (
  deps: PurgeDeps,
  request: DeletionRequest,
  worker: {
    readonly owner: string;
    /** The breaker's answer for a SCHEDULED request, when the caller asked it already. */
    readonly admitted?: Admission | undefined;
    /** The process is shutting down: record, release the lease and return STOPPED. */
    readonly stop?: PassStop | undefined;
  },
): Promise<PurgeResult> => {
  const { owner, admitted, stop } = worker;
  if (request.state === 'SCHEDULED') {
    const admission = admitted ?? (await admitToErasure(deps, request));
    if (admission !== 'ADMITTED') return admission;
  }
  const now = deps.clock.now();
  const lease = { owner, until: new Date(now.getTime() + deps.policy.leaseMs) };
  const claimed =
    request.state === 'SCHEDULED'
      ? startErasing(
          request,
          {
            lease,
            steps: initialSteps(deps.participants.specs, now),
            finalNotice: finalNoticeFor(await deps.accounts.find(request.subjectId)),
          },
          context(deps),
        )
      : {
          ...request,
          participants: reconcileSteps(request.participants, deps.participants.specs, now),
          version: request.version + 1,
          updatedAt: now,
          leaseOwner: owner,
          leaseUntil: lease.until,
        };
  if (!(await deps.requests.update(claimed, request))) return 'LOST_RACE';
  const recorder = createRecorder(deps, claimed);
  if (deps.policy.localErasure === 'first') await recordLocalErasure(deps, recorder);
  await drainOrStop(fanOut(deps, recorder, stop?.signal), stop);
  if (stop?.signal.aborted === true) {
    // Answers already in are recorded; the next worker takes over from them at once.
    await recorder.apply((current) => ({
      ...current,
      leaseOwner: null,
      leaseUntil: deps.clock.now(),
    }));
    return 'STOPPED';
  }
  const decided = await decide(deps, recorder);
  if (decided !== 'ALL_ANSWERED') return decided;
  const erased = await eraseLocal(deps, recorder.current());
  // Signed once everything is erased and kept with what went here, before the subject is told:
  // the final notice carries it, and a purge repeated after a crash sends and keeps the same one.
  await recorder.apply((current) => {
    const local = current.localErasure ?? erased;
    if (current.report !== null) return { ...current, localErasure: local };
    return { ...current, localErasure: local, report: signedReport(deps, current, local) };
  });
  const { notice, sent } = await tellSubject(deps, recorder.current());
  if (notice?.contact) {
    // The channel is down: the purge waits and tries the notice again.
    await recorder.apply((current) => ({
      ...current,
      localErasure: current.localErasure ?? erased,
      finalNotice: notice,
      leaseOwner: null,
      leaseUntil: notice.dueAt,
    }));
    return 'WAITING';
  }
  const { local, told } = await enterInLedger(deps, recorder.current(), { erased, sent });
  // A purge repeated after a crash finds no address left: the first one's notice says if it went.
  const finalNotice =
    notice !== null && told?.outcome === 'SENT'
      ? { ...notice, contact: null, dueAt: null, sentAt: told.at }
      : notice;
  await destroySubjectKey(deps, request);
  await recorder.apply((current) => {
    const completedAt = deps.clock.now();
    const done = {
      ...current,
      localErasure: local,
      finalNotice,
      sentNotices: told === null ? current.sentNotices : [...current.sentNotices, told],
      subjectKeyDestroyedAt: completedAt,
    };
    const report = current.report ?? signedReport(deps, done, local);
    return complete(done, report, { ...context(deps), now: completedAt });
  });
  // COMPLETED and KEY_DESTROYED go to the log with their group; recording that takes one more write.
  await deps.audit.outbox.appended();
  const completed = recorder.current();
  await deps.requests.update({ ...completed, version: completed.version + 1 }, completed);
  return 'COMPLETED';
};
