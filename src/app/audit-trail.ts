import {
  answerKey,
  changeKey,
  checkStretch,
  GENESIS_HASH,
  noticeKey,
  type AuditEntry,
  type AuditEvent,
  type AuditVerdict,
} from '../domain/audit-event.js';
import type { ErasureOutcome } from '../domain/erasure-steps.js';
import type { SentNotice } from '../domain/subject-notice.js';
import type { Operation } from '../domain/authorization.js';
import type { DeletionRequest, StateChange } from '../domain/deletion-request.js';
import type { SubjectId } from '../domain/ids.js';
import { isSubjectItself, systemActor, type Actor, type Principal } from '../domain/principal.js';
import type { DeletionDeps } from './deletion-deps.js';
import type { AuditLog, AuditOutbox, AuditSeal, DeletionRequestRepository } from './ports.js';

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
    details: { from: change.from, to: change.to, note: change.note, traceId: change.traceId },
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

/** Whether an outcome is a linked service's own answer (MANUAL: an administrator's, audited as an admin action). */
export const isServiceAnswer = (kind: ErasureOutcome['kind']): boolean => kind !== 'MANUAL';

/**
 * The PARTICIPANT_ANSWERED entry of a linked service's final answer about a
 * request: owed by the write that completes the request, once per request
 * and service.
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
 * by the write that completes the request, once per request and notice.
 * Never the address.
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
 * The entries the `index`-th change of a request owes the log: its
 * STATE_CHANGED entry; for the change that completes the request, before it
 * each linked service's final answer and each notice sent, and after it
 * KEY_DESTROYED (the purge records all of them in that one write).
 */
const entriesOfChange = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  owed: { readonly change: StateChange; readonly index: number },
): AuditEntry[] => {
  const destroyedAt = request.subjectKeyDestroyedAt;
  if (owed.change.to !== 'COMPLETED') return [transitionEntry(pseudonymOf, request, owed)];
  return [
    // What the completion rests on, recorded by the write that completes: each linked
    // service's final answer and each notice the subject was sent (the final one included).
    ...Object.entries(request.participants).flatMap(([participant, step]) =>
      step.outcome === null || !isServiceAnswer(step.outcome.kind)
        ? []
        : [
            answerEntry(pseudonymOf, request, {
              participant,
              outcome: step.outcome,
              at: step.updatedAt,
              actor: systemActor('purge-worker'),
            }),
          ],
    ),
    ...request.sentNotices.map((sent) => noticeEntry(pseudonymOf, request, sent)),
    transitionEntry(pseudonymOf, request, owed),
    ...(destroyedAt !== null ? [keyDestroyedEntry(pseudonymOf, request, destroyedAt)] : []),
  ];
};

/** How long the outbox gathers owed changes before appending them together. */
const GATHER_MS = 25;
/** Requests whose appended changes one replica remembers (the oldest are forgotten first). */
const REMEMBERED = 10_000;

/**
 * The audit outbox of one replica. A change is owed to the log in the same
 * write that makes it (the request's history past `auditedThrough`); what is
 * owed goes to the log in groups (one insert per group, see the log), and
 * what went is remembered here, so the request's next write records it
 * (no write of its own). A failed append leaves the changes owed on the
 * request: the worker appends them (`appendOwedAudit`), so none is lost.
 */
export const createAuditOutbox = (audit: TransitionAudit): AuditOutbox => {
  /** Per request, how many of its changes are in the log (`done`), or handed to the outbox (`asked`). */
  const done = rememberedCounts(REMEMBERED);
  const asked = rememberedCounts(REMEMBERED);
  const entriesOf = (request: DeletionRequest, index: number): AuditEntry[] => {
    const change = request.history[index];
    return change === undefined
      ? []
      : entriesOfChange(audit.pseudonymOf, request, { change, index });
  };
  /**
   * Where the changes this replica must append start: past those it knows in
   * the log, and past those earlier writes made (before `madeFrom`) when the
   * last of them is in the log. A request's entries go in in order, each
   * append after those before it are in, so the last one in means all are:
   * one read, where appending them again would cost two round trips each
   * (another replica wrote the request before, and appended them).
   */
  const appendFrom = async (request: DeletionRequest, madeFrom: number): Promise<number> => {
    const from = Math.max(request.auditedThrough, done.get(request.id));
    const made = Math.min(madeFrom, request.history.length);
    if (from >= made) return from;
    const last = entriesOf(request, made - 1).at(-1);
    return last !== undefined && (await audit.log.has(last.key)) ? made : from;
  };
  /** Appends the entries of the request's changes from `from` on, all in this tick (one group). */
  const appendRange = async (request: DeletionRequest, from: number): Promise<void> => {
    const entries = request.history.flatMap((_, index) =>
      index < from ? [] : entriesOf(request, index),
    );
    await Promise.all(entries.map((entry) => audit.log.append(entry)));
    done.raise(request.id, request.history.length);
  };
  /** A request's changes to append, and where the changes its last write made start. */
  let gathering: { readonly request: DeletionRequest; readonly madeFrom: number }[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  /** Settles when the group gathering now has gone to the log. */
  let gathered: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
  /**
   * Appends what the group owes and then `after`, all handed to the log in
   * one tick (one insert, in this order). A request whose append failed
   * still owes it: its next write hands it over again, or the worker
   * appends it. Throws only when `after` failed.
   */
  const appendGroup = async (
    group: typeof gathering,
    after: AuditEntry | undefined,
  ): Promise<void> => {
    const failed = (request: DeletionRequest) => (error: unknown) => {
      asked.forget(request.id);
      audit.onFailure(error, request);
    };
    const starts = await Promise.all(
      group.map(({ request, madeFrom }) => appendFrom(request, madeFrom).catch(failed(request))),
    );
    const owed = group.map(({ request }, index) => {
      const from = starts[index];
      return from === undefined ? undefined : appendRange(request, from).catch(failed(request));
    });
    await Promise.all([...owed, after === undefined ? undefined : audit.log.append(after)]);
  };
  const flush = (after?: AuditEntry): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const group = gathering;
    const waiting = gathered;
    gathering = [];
    gathered = undefined;
    const appended = appendGroup(group, after);
    flushing = Promise.all([flushing, appended.catch(() => undefined)]).then(() => undefined);
    void flushing.then(() => waiting?.resolve());
    return Promise.all([flushing, appended]).then(() => undefined);
  };
  const owe = (request: DeletionRequest, madeFrom: number): void => {
    // Handed over already (an append in flight): a later write of the same request adds nothing.
    if (request.history.length <= Math.max(asked.get(request.id), request.auditedThrough)) return;
    asked.raise(request.id, request.history.length);
    gathering.push({ request, madeFrom });
    gathered ??= settleable();
    timer ??= setTimeout(() => void flush(), GATHER_MS).unref();
  };
  return {
    owe,
    appendOwed: async (request) =>
      appendRange(request, await appendFrom(request, request.history.length)),
    appendAfter: async (request, entry) => {
      owe(request, request.history.length);
      await flush(entry);
    },
    appended: () => gathered?.promise ?? flushing,
    knownThrough: (id) => done.get(id),
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

/** Counts per key that only grow, the least recently raised forgotten past `max` keys. */
const rememberedCounts = (max: number) => {
  const counts = new Map<string, number>();
  return {
    get: (key: string): number => counts.get(key) ?? 0,
    raise: (key: string, count: number): void => {
      if ((counts.get(key) ?? 0) >= count) return;
      counts.delete(key);
      counts.set(key, count);
      if (counts.size > max) counts.delete(counts.keys().next().value ?? '');
    },
    forget: (key: string): void => {
      counts.delete(key);
    },
  };
};

/**
 * The repository, owing every state change it stores to the audit log in
 * the same write (the change is in the history; `auditedThrough` says how
 * far the log is known to have it), then handing it to the outbox. The
 * changes the outbox appended since are recorded in the same write.
 */
export const auditTransitions = (
  requests: DeletionRequestRepository,
  outbox: AuditOutbox,
): DeletionRequestRepository => ({
  ...requests,
  update: async (next, previous) => {
    const known = Math.min(outbox.knownThrough(next.id), next.history.length);
    const recorded = { ...next, auditedThrough: Math.max(next.auditedThrough, known) };
    const written = await requests.update(recorded, previous);
    if (written && recorded.auditedThrough < recorded.history.length)
      outbox.owe(recorded, previous.history.length);
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
 * Records that a caller read beyond their own data (DESIGN §4: privileged
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
