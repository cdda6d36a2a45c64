import { transitionName } from '../../domain/deletion-state.js';
import {
  alertKey,
  answerKey,
  changeKey,
  checkStretch,
  GENESIS_HASH,
  noticeKey,
  type AuditEntry,
  type AuditEvent,
  type AuditVerdict,
} from '../../domain/audit-event.js';
import {
  auditedWithin,
  auditsAll,
  everythingAudited,
  mergeMarks,
  NOTHING_AUDITED,
  serviceAnswers,
  settledAlerts,
  type AuditMarks,
} from '../../domain/audit-marks.js';
import type { ErasureOutcome } from '../../domain/erasure-steps.js';
import type { SentNotice } from '../../domain/subject-notice.js';
import type { OwnerAlert } from '../../domain/owner-alerts.js';
import type { Operation } from '../../domain/authorization.js';
import type { DeletionRequest, StateChange } from '../../domain/deletion-request.js';
import type { SubjectId } from '../../domain/ids.js';
import {
  isSubjectItself,
  systemActor,
  type Actor,
  type Principal,
} from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import type { AuditLog, AuditOutbox, AuditSeal } from '../ports/audit-log.js';
import type { DeletionRequestRepository } from '../ports/deletion-request-repository.js';

/**
 * How the audit log names a request's subject: its keyed pseudonym, which a
 * request cut down by the retention sweep already holds in place of the id
 * (hashing it again would name another subject).
 */
export const subjectPseudonymOf = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: Pick<DeletionRequest, 'subjectId' | 'retention'>,
): string => (request.retention === null ? pseudonymOf(request.subjectId) : request.subjectId);

/** Where state changes are audited, with the subject only as its pseudonym. */
export interface TransitionAudit {
  readonly log: AuditLog;
  readonly pseudonymOf: (subjectId: SubjectId) => string;
  readonly onFailure: (error: unknown, request: DeletionRequest) => void;
}

/** The STATE_CHANGED entry of the `index`-th change of a request. */
const transitionEntry = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  { change, index }: { readonly change: StateChange; readonly index: number },
): AuditEntry => {
  const pseudonym = subjectPseudonymOf(pseudonymOf, request);
  return {
    kind: 'STATE_CHANGED',
    at: change.at,
    // The subject acting on their own request appears as their pseudonym too.
    actor: isSubjectItself(change.actor, request.subjectId)
      ? { kind: 'USER', id: pseudonym }
      : change.actor,
    deletionRequestId: request.id,
    subjectPseudonym: pseudonym,
    details: {
      transition: transitionName(change.from, change.to),
      from: change.from,
      to: change.to,
      note: change.note,
      traceId: change.traceId,
    },
    // The n-th change of a request is audited once, whoever appends it.
    key: changeKey(request.id, index),
  };
};

/**
 * The KEY_DESTROYED entry of a request whose subject's data key was
 * destroyed at `at`: audited once per request, whoever appends it.
 */
export const keyDestroyedEntry = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  at: Date,
): AuditEntry => ({
  kind: 'KEY_DESTROYED',
  at,
  actor: systemActor('purge-worker'),
  deletionRequestId: request.id,
  subjectPseudonym: subjectPseudonymOf(pseudonymOf, request),
  details: { key: 'SUBJECT_DATA_KEY', after: 'ERASURE_COMPLETED' },
  key: `${request.id}#key_destroyed`,
});

/**
 * The PARTICIPANT_ANSWERED entry of a linked service's final answer about a
 * request: owed by the write that records it, once per request and service.
 */
export const answerEntry = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: Pick<DeletionRequest, 'id' | 'subjectId' | 'retention'>,
  answer: {
    readonly participant: string;
    readonly outcome: ErasureOutcome;
    readonly at: Date;
    readonly actor: Actor;
  },
): AuditEntry => ({
  kind: 'PARTICIPANT_ANSWERED',
  at: answer.at,
  actor: answer.actor,
  deletionRequestId: request.id,
  subjectPseudonym: subjectPseudonymOf(pseudonymOf, request),
  details: { participant: answer.participant, outcome: answer.outcome.kind },
  key: answerKey(request.id, answer.participant),
});

/**
 * The NOTICE_SENT entry of a notice to the subject, sent or given up: owed
 * by the write that records it, once per request and notice. Never the
 * address.
 */
export const noticeEntry = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: Pick<DeletionRequest, 'id' | 'subjectId' | 'retention'>,
  sent: SentNotice,
): AuditEntry => ({
  kind: 'NOTICE_SENT',
  at: sent.at,
  actor: systemActor('notifier'),
  deletionRequestId: request.id,
  subjectPseudonym: subjectPseudonymOf(pseudonymOf, request),
  details: {
    notice: sent.key,
    kind: sent.kind,
    outcome: sent.outcome,
    channel: sent.channel ?? '',
  },
  key: noticeKey(request.id, sent.key),
});

/**
 * The OWNER_ALERTED entry of an alert to a linked service's owner, sent or
 * given up: owed by the write that records it, once per request and
 * service. Never the webhook.
 */
export const alertEntry = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: Pick<DeletionRequest, 'id' | 'subjectId' | 'retention'>,
  alert: Pick<OwnerAlert, 'participant' | 'team' | 'status' | 'attempts'> & { readonly at: Date },
): AuditEntry => ({
  kind: 'OWNER_ALERTED',
  at: alert.at,
  actor: systemActor('owner-alerts'),
  deletionRequestId: request.id,
  subjectPseudonym: subjectPseudonymOf(pseudonymOf, request),
  details: {
    participant: alert.participant,
    team: alert.team,
    outcome: alert.status,
    attempts: String(alert.attempts),
  },
  key: alertKey(request.id, alert.participant),
});

/** The OWNER_ALERTED entries a request owes past the services in `alerted`. */
export const alertEntries = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  alerted: readonly string[],
): AuditEntry[] =>
  settledAlerts(request)
    .filter(({ participant }) => !alerted.includes(participant))
    .flatMap(({ participant, at }) => {
      const alert = request.ownerAlerts.find((candidate) => candidate.participant === participant);
      return alert === undefined ? [] : [alertEntry(pseudonymOf, request, { ...alert, at })];
    });

/** The entries the `index`-th change of a request owes the log: its STATE_CHANGED entry, then KEY_DESTROYED for the change that completes it once its key is destroyed. */
export const entriesOfChange = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  owed: { readonly change: StateChange; readonly index: number },
): AuditEntry[] => {
  const destroyedAt = request.subjectKeyDestroyedAt;
  return [
    transitionEntry(pseudonymOf, request, owed),
    ...(owed.change.to === 'COMPLETED' && destroyedAt !== null
      ? [keyDestroyedEntry(pseudonymOf, request, destroyedAt)]
      : []),
  ];
};

/**
 * The entries a request owes the log past `from`, in the order they go in:
 * each linked service's final answer, each notice sent, each owner alert
 * settled, each state change
 * (the answers and the final notice the completing write records go in
 * before COMPLETED). Each sequence in its own order, so the last of one in
 * the log means all of it before is.
 */
const owedEntries = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  from: AuditMarks,
): AuditEntry[] => {
  const answered = new Set(from.answers);
  return [
    ...serviceAnswers(request)
      .filter(({ participant }) => !answered.has(participant))
      .map((answer) =>
        answerEntry(pseudonymOf, request, { ...answer, actor: systemActor('purge-worker') }),
      ),
    ...request.sentNotices
      .slice(from.notices)
      .map((sent) => noticeEntry(pseudonymOf, request, sent)),
    ...alertEntries(pseudonymOf, request, from.alerts),
    ...request.history.flatMap((change, index) =>
      index < from.changes ? [] : entriesOfChange(pseudonymOf, request, { change, index }),
    ),
  ];
};

/** How long the outbox gathers owed changes before appending them together. */
const GATHER_MS = 25;
/** Requests whose appended changes one replica remembers (the oldest are forgotten first). */
const REMEMBERED = 10_000;

/**
 * The audit outbox of one replica. A fact (state change, notice sent, final
 * answer, owner alert settled) is owed to the log in the same write that records it (past the
 * request's `audited` marks); what is owed goes to the log in groups (one
 * insert per group, see the log), and what went is remembered here, so the
 * request's next write records it (no write of its own). A failed append
 * leaves the facts owed on the request: the worker appends them
 * (`appendOwedAudit`), so none is lost.
 */
export const createAuditOutbox = (audit: TransitionAudit): AuditOutbox => {
  /** Per request, what of it is in the log (`done`), or handed to the outbox (`asked`). */
  const done = rememberedMarks(REMEMBERED);
  const asked = rememberedMarks(REMEMBERED);
  /** Whether the log holds the entry with this key; false when there is none. */
  const holds = async (entry: AuditEntry | undefined): Promise<boolean> =>
    entry !== undefined && (await audit.log.has(entry.key));
  /**
   * Where the facts this replica must append start: past those it knows in
   * the log, and past those earlier writes recorded (`made`) when the last
   * of their sequence is in the log. A request's entries go in in order, each
   * append after those before it are in, so the last one in means all are:
   * one read, where appending them again would cost two round trips each
   * (another replica wrote the request before, and appended them); each
   * answer (a set, not a sequence) is looked up alone.
   */
  const appendFrom = async (request: DeletionRequest, made: AuditMarks): Promise<AuditMarks> => {
    const from = auditedWithin(request, mergeMarks(request.audited, done.get(request.id)));
    const earlier = auditedWithin(request, made);
    const lastChange = request.history[earlier.changes - 1];
    const lastNotice = request.sentNotices[earlier.notices - 1];
    const answered = new Set(from.answers);
    const unknown = earlier.answers.filter((participant) => !answered.has(participant));
    const alerted = new Set(from.alerts);
    const unknownAlerts = earlier.alerts.filter((participant) => !alerted.has(participant));
    const alertsIn = Promise.all(
      unknownAlerts.map((participant) => audit.log.has(alertKey(request.id, participant))),
    );
    const [changes, notices, ...answers] = await Promise.all([
      from.changes < earlier.changes &&
        lastChange !== undefined &&
        holds(
          entriesOfChange(audit.pseudonymOf, request, {
            change: lastChange,
            index: earlier.changes - 1,
          }).at(-1),
        ),
      from.notices < earlier.notices &&
        lastNotice !== undefined &&
        holds(noticeEntry(audit.pseudonymOf, request, lastNotice)),
      ...unknown.map((participant) => audit.log.has(answerKey(request.id, participant))),
    ]);
    const alertsFound = await alertsIn;
    return {
      changes: changes ? earlier.changes : from.changes,
      notices: notices ? earlier.notices : from.notices,
      answers: [...from.answers, ...unknown.filter((_, index) => answers[index] === true)],
      alerts: [...from.alerts, ...unknownAlerts.filter((_, index) => alertsFound[index] === true)],
    };
  };
  /** Appends the entries the request owes past `from`, all in this tick (one group); how many. */
  const appendRange = async (request: DeletionRequest, from: AuditMarks): Promise<number> => {
    const entries = owedEntries(audit.pseudonymOf, request, from);
    await Promise.all(entries.map((entry) => audit.log.append(entry)));
    done.raise(request.id, everythingAudited(request));
    return entries.length;
  };
  /**
   * The requests whose facts to append, each at its latest version written
   * here, with what of them writes before the first of these recorded.
   */
  let gathering = new Map<
    string,
    { readonly request: DeletionRequest; readonly made: AuditMarks }
  >();
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  /** Settles when the group gathering now has gone to the log. */
  let gathered: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
  /** Per request, its append under way: a later one of the same request starts after it. */
  const underWay = new Map<string, Promise<Error | undefined>>();
  /**
   * Appends what the group owes, then `after` once every fact its request
   * owes is in (its last event: shredding's KEY_DESTROYED), but for a request
   * with an append under way here: its facts go once that one is in (or
   * failed), so that this replica never hands the log a fact twice. A request
   * whose append failed still owes it: its next write hands it over again, or
   * the worker appends it. Throws when `after` failed, or was not appended
   * because its request's facts could not be.
   */
  const appendGroup = async (
    group: readonly { readonly request: DeletionRequest; readonly made: AuditMarks }[],
    after: AuditEntry | undefined,
  ): Promise<void> => {
    /** Appends what the request owes once its append under way is in (or failed), so it is known here. */
    const appendOne = async (request: DeletionRequest, made: AuditMarks): Promise<void> => {
      const before = underWay.get(request.id);
      if (before !== undefined) await before;
      await appendRange(request, await appendFrom(request, made));
    };
    const mine = new Map<string, Promise<Error | undefined>>();
    const owed = group.map(({ request, made }) => {
      // Settles with the error it failed with, if it did.
      const appending = appendOne(request, made).then(
        () => undefined,
        (error: unknown) => {
          asked.forget(request.id);
          audit.onFailure(error, request);
          return error instanceof Error ? error : new Error(String(error));
        },
      );
      underWay.set(request.id, appending);
      mine.set(request.id, appending);
      void appending.then(() => {
        if (underWay.get(request.id) === appending) underWay.delete(request.id);
      });
      return appending;
    });
    const ownId = after?.deletionRequestId ?? null;
    const own = ownId === null ? undefined : (mine.get(ownId) ?? underWay.get(ownId));
    await Promise.all(owed);
    if (after === undefined) return;
    const failure = await own;
    if (failure !== undefined) throw failure;
    await audit.log.append(after);
  };
  const flush = (after?: AuditEntry): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const group = [...gathering.values()];
    const waiting = gathered;
    gathering = new Map();
    gathered = undefined;
    const appended = appendGroup(group, after);
    flushing = Promise.all([flushing, appended.catch(() => undefined)]).then(() => undefined);
    void flushing.then(() => waiting?.resolve());
    return Promise.all([flushing, appended]).then(() => undefined);
  };
  const owe = (request: DeletionRequest, made: AuditMarks): void => {
    // Handed over already (an append in flight): a later write of the same request adds nothing.
    if (auditsAll(request, mergeMarks(asked.get(request.id), request.audited))) return;
    asked.raise(request.id, everythingAudited(request));
    const earlier = gathering.get(request.id);
    // Gathering already: its latest version holds every fact of the earlier one.
    if (earlier === undefined || earlier.request.version < request.version)
      gathering.set(request.id, { request, made: earlier?.made ?? made });
    gathered ??= settleable();
    timer ??= setTimeout(() => void flush(), GATHER_MS).unref();
  };
  return {
    owe,
    appendOwed: async (request) =>
      appendRange(request, await appendFrom(request, everythingAudited(request))),
    appendAfter: async (request, entry) => {
      owe(request, everythingAudited(request));
      await flush(entry);
    },
    appended: () => gathered?.promise ?? flushing,
    known: (id) => done.get(id),
    flush: () => flush(),
  };
};

/** A promise and the function that settles it. */
const settleable = (): { readonly promise: Promise<void>; readonly resolve: () => void } => {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
};

/** Audit marks per request that only grow, the least recently raised forgotten past `max` requests. */
const rememberedMarks = (max: number) => {
  const marks = new Map<string, AuditMarks>();
  return {
    get: (key: string): AuditMarks => marks.get(key) ?? NOTHING_AUDITED,
    raise: (key: string, raised: AuditMarks): void => {
      const merged = mergeMarks(marks.get(key) ?? NOTHING_AUDITED, raised);
      marks.delete(key);
      marks.set(key, merged);
      if (marks.size > max) marks.delete(marks.keys().next().value ?? '');
    },
    forget: (key: string): void => {
      marks.delete(key);
    },
  };
};

/**
 * The repository, owing every fact it stores (state change, notice sent,
 * final answer, owner alert settled) to the audit log in the same write (past the request's
 * `audited` marks), then handing it to the outbox. What the outbox appended
 * since is recorded in the same write.
 */
export const auditTransitions = (
  requests: DeletionRequestRepository,
  outbox: AuditOutbox,
): DeletionRequestRepository => ({
  ...requests,
  update: async (next, previous) => {
    const audited = auditedWithin(next, mergeMarks(next.audited, outbox.known(next.id)));
    const recorded = { ...next, audited };
    const written = await requests.update(recorded, previous);
    if (written && !auditsAll(recorded, audited)) outbox.owe(recorded, everythingAudited(previous));
    return written;
  },
});

const PAGE = 500;

/**
 * Walks the whole chain in pages: every sequence present once, in order, each
 * event's keyed hash right and naming the one before, and nothing missing up
 * to the recorded head (a cut-off tail). Returns the first broken link.
 */
export const verifyAuditChain = async (
  log: AuditLog,
  seal: AuditSeal,
  seen?: (event: AuditEvent) => void,
): Promise<AuditVerdict> => {
  let previous = { sequence: 0, hash: GENESIS_HASH };
  for (;;) {
    const page = await log.read(previous.sequence, PAGE);
    if (seen !== undefined) for (const event of page) seen(event);
    const { broken, last } = checkStretch(page, previous, (content) => seal.mac(content));
    if (broken !== null)
      return {
        intact: false,
        events: last.sequence,
        firstBadSequence: broken.sequence,
        problem: broken.problem,
      };
    previous = last;
    if (page.length < PAGE) break;
  }
  if ((await log.head()) > previous.sequence)
    return {
      intact: false,
      events: previous.sequence,
      firstBadSequence: previous.sequence + 1,
      problem: 'MISSING',
    };
  return { intact: true, events: previous.sequence };
};

/**
 * Records that a caller read beyond their own data (docs/design.md §4: privileged
 * reads are audited). Awaited, and a failure fails the read: nothing is shown
 * that the log does not record.
 */
export const auditPrivilegedRead = (
  deps: Pick<DeletionDeps, 'audit' | 'clock' | 'pseudonymOf' | 'ids'>,
  principal: Principal,
  read: {
    readonly operation: Operation;
    readonly deletionRequestId?: string;
    /** The subject, by id, or by pseudonym when that is all the request holds. */
    readonly subjectId?: SubjectId;
    readonly subjectPseudonym?: string;
    readonly details?: Readonly<Record<string, string>>;
  },
): Promise<void> =>
  deps.audit.log.append({
    kind: 'PRIVILEGED_READ',
    at: deps.clock.now(),
    actor: principal.actor,
    deletionRequestId: read.deletionRequestId ?? null,
    subjectPseudonym:
      read.subjectPseudonym ??
      (read.subjectId === undefined ? null : deps.pseudonymOf(read.subjectId)),
    details: { operation: read.operation, ...read.details },
    // Every read is its own event.
    key: `read#${deps.ids.newEventId()}`,
  });
