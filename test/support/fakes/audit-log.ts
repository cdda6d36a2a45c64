import { createHmac } from 'node:crypto';
import {
  alertEntries,
  answerEntry,
  entriesOfChange,
  noticeEntry,
} from '../../../src/app/audit/audit-trail.js';
import type { AuditLog, AuditOutbox, AuditSeal } from '../../../src/app/ports/audit-log.js';
import {
  chainedContent,
  GENESIS_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditFilter,
} from '../../../src/domain/audit-event.js';
import {
  auditsAll,
  everythingAudited,
  mergeMarks,
  NOTHING_AUDITED,
  serviceAnswers,
  type AuditMarks,
} from '../../../src/domain/audit-marks.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { SubjectId } from '../../../src/domain/ids.js';
import { systemActor } from '../../../src/domain/principal.js';
import { outageSwitch, type Outage } from './store-away.js';

const SEALED = 'fake-audit-seal:';

/**
 * A fake audit seal: an HMAC-SHA256 under `key` for the chain, and details
 * "sealed" as base64 JSON bound to the key's name (another seal cannot open
 * them: INTERNAL `AUDIT_DETAILS_UNREADABLE`). Not encryption: a test fake.
 */
export const fakeAuditSeal = (key = 'fake-audit-key'): AuditSeal => {
  const unreadable = () =>
    new DomainError({
      code: 'INTERNAL',
      reason: 'AUDIT_DETAILS_UNREADABLE',
      message: 'the details of an audit event cannot be decrypted with the configured key',
    });
  return {
    mac: (content) => createHmac('sha256', key).update(content).digest('hex'),
    seal: (details) => `${SEALED}${Buffer.from(JSON.stringify([key, details])).toString('base64')}`,
    open: (sealed) => {
      if (!sealed.startsWith(SEALED)) throw unreadable();
      const [sealedWith, details] = JSON.parse(
        Buffer.from(sealed.slice(SEALED.length), 'base64').toString(),
      ) as [string, Record<string, string>];
      if (sealedWith !== key) throw unreadable();
      return details;
    },
  };
};

/** The audit log in memory. */
export interface FakeAuditLog extends AuditLog, Outage {
  /** Every event, in sequence order. */
  events(): readonly AuditEvent[];
}

const matches = (event: AuditEvent, filter: AuditFilter): boolean =>
  (filter.kind === undefined || event.kind === filter.kind) &&
  (filter.deletionRequestId === undefined ||
    event.deletionRequestId === filter.deletionRequestId) &&
  (filter.subjectPseudonym === undefined || event.subjectPseudonym === filter.subjectPseudonym) &&
  (filter.from === undefined || event.at >= filter.from) &&
  (filter.until === undefined || event.at < filter.until);

/**
 * A fake audit log: each entry takes the next sequence and names the hash of
 * the one before (keyed by `seal`); an entry whose key is in already is not
 * appended again. Its head never lags. Facts are audited since `factsSince`.
 */
export const fakeAuditLog = (
  seal: AuditSeal,
  factsSince: Date = new Date('2026-01-01T00:00:00.000Z'),
): FakeAuditLog => {
  const events: AuditEvent[] = [];
  const keys = new Set<string>();
  const outage = outageSwitch();
  const page = (selected: readonly AuditEvent[], after: number, limit: number) =>
    selected.filter((event) => event.sequence > after).slice(0, Math.max(0, limit));
  return {
    setDown: outage.setDown,
    events: () => [...events],
    append: (entry) =>
      outage.guard(() => {
        if (keys.has(entry.key)) return;
        const previous = events.at(-1);
        const content = {
          sequence: events.length + 1,
          key: entry.key,
          kind: entry.kind,
          at: new Date(entry.at.getTime()),
          actor: { kind: entry.actor.kind, id: entry.actor.id },
          deletionRequestId: entry.deletionRequestId,
          subjectPseudonym: entry.subjectPseudonym,
          sealedDetails: seal.seal(entry.details),
          previousHash: previous?.hash ?? GENESIS_HASH,
        };
        events.push({ ...content, hash: seal.mac(chainedContent(content)) });
        keys.add(entry.key);
      }),
    read: (after, limit) => outage.guard(() => page(events, after, limit)),
    head: () => outage.guard(() => events.length),
    has: (key) => outage.guard(() => keys.has(key)),
    list: (filter, after, limit) =>
      outage.guard(() =>
        page(
          events.filter((event) => matches(event, filter)),
          after,
          limit,
        ),
      ),
    factsAuditedSince: () => outage.guard(() => new Date(factsSince.getTime())),
  };
};

/**
 * The entries a request owes past `from`, in the order they go in: the
 * linked services' own final answers, the notices sent, the owner alerts
 * settled, the state changes
 * (with KEY_DESTROYED after the one that completed a shredded request).
 */
const owedEntries = (
  pseudonymOf: (subjectId: SubjectId) => string,
  request: DeletionRequest,
  from: AuditMarks,
): AuditEntry[] => [
  ...serviceAnswers(request)
    .filter(({ participant }) => !from.answers.includes(participant))
    .map((answer) =>
      answerEntry(pseudonymOf, request, { ...answer, actor: systemActor('purge-worker') }),
    ),
  ...request.sentNotices.slice(from.notices).map((sent) => noticeEntry(pseudonymOf, request, sent)),
  ...alertEntries(pseudonymOf, request, from.alerts),
  ...request.history.flatMap((change, index) =>
    index < from.changes ? [] : entriesOfChange(pseudonymOf, request, { change, index }),
  ),
];

/** The audit outbox of one replica, in memory. */
export interface FakeAuditOutbox extends AuditOutbox {
  /** Failures of appends handed over with `owe` (the facts stay owed), oldest first. */
  readonly failures: readonly unknown[];
}

/**
 * A fake outbox over `log`: what a request owes (past its marks and what
 * this outbox knows to be in) is handed to the log at once, without
 * gathering; `appended()` settles once it went (or failed, and stays owed).
 */
export const fakeAuditOutbox = (
  log: AuditLog,
  pseudonymOf: (subjectId: SubjectId) => string,
): FakeAuditOutbox => {
  const done = new Map<string, AuditMarks>();
  const failures: unknown[] = [];
  let handing: Promise<unknown> = Promise.resolve();
  const known = (id: string): AuditMarks => done.get(id) ?? NOTHING_AUDITED;
  /** Appends the entries the request owes that the log lacks, in order; how many went in. */
  const appendOwed = async (request: DeletionRequest): Promise<number> => {
    const from = mergeMarks(request.audited, known(request.id));
    let appended = 0;
    for (const entry of owedEntries(pseudonymOf, request, from)) {
      if (await log.has(entry.key)) continue;
      await log.append(entry);
      appended += 1;
    }
    done.set(request.id, mergeMarks(known(request.id), everythingAudited(request)));
    return appended;
  };
  const owe = (request: DeletionRequest): void => {
    if (auditsAll(request, mergeMarks(request.audited, known(request.id)))) return;
    const appending = appendOwed(request).catch((error: unknown) => {
      failures.push(error);
    });
    handing = Promise.all([handing, appending]);
  };
  return {
    failures,
    owe,
    appendOwed,
    appendAfter: async (request, entry) => {
      await appendOwed(request);
      await log.append(entry);
    },
    appended: () => handing.then(() => undefined),
    known,
    flush: () => handing.then(() => undefined),
  };
};
