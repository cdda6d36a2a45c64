import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/app/audit/audit-trail.js';
import type { AuditLog, AuditOutbox, AuditSeal } from '../../src/app/ports/audit-log.js';
import {
  GENESIS_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditKind,
} from '../../src/domain/audit-event.js';
import { NOTHING_AUDITED } from '../../src/domain/audit-marks.js';
import type { DeletionRequest, StateChange } from '../../src/domain/deletion-request.js';
import type { DeletionState } from '../../src/domain/deletion-state.js';
import type { ParticipantStep } from '../../src/domain/erasure-steps.js';
import type { Actor } from '../../src/domain/principal.js';
import {
  aDeletionRequest,
  anAnsweredStep,
  BUILT_AT,
} from '../fixtures/deletion-request-builder.js';
import { fakePseudonymOf } from '../support/fakes/index.js';

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );

const at = (seconds: number): Date => new Date(BUILT_AT.getTime() + seconds * 1000);

/** An entry of a fresh key; `n` sets its time and names. */
const anEntry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  kind: 'ADMIN_ACTION',
  at: at(n),
  actor: { kind: 'USER', id: `admin-${String(n % 3)}` },
  deletionRequestId: `request-${String(n % 2)}`,
  subjectPseudonym: `psn_${String(n % 4)}`,
  details: { action: 'retry', note: `attempt ${String(n)}` },
  key: `entry-${randomUUID()}`,
  ...overrides,
});

/** What the audit log contract runs against: an empty log, another replica's view of it, and its seal. */
export interface AuditLogSubject {
  readonly log: AuditLog;
  readonly replica: () => AuditLog;
  readonly seal: AuditSeal;
}

/** The contract of AuditLog: one hash chain, every key once, no gap, whoever appends. */
export const describeAuditLogContract = (
  name: string,
  makeSubject: () => Promise<AuditLogSubject>,
): void => {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditLog;
    let replica: AuditLogSubject['replica'];
    let seal: AuditSeal;
    beforeEach(async () => {
      ({ log, replica, seal } = await makeSubject());
    });

    it('appends each entry at the next sequence, naming the hash of the one before, its details sealed', async () => {
      const entries = [anEntry(1), anEntry(2, { deletionRequestId: null, subjectPseudonym: null })];
      for (const entry of entries) await log.append(entry);
      const events = await log.read(0, 10);
      expect(events.map(({ sequence }) => sequence)).toEqual([1, 2]);
      expect(events[0]!.previousHash).toBe(GENESIS_HASH);
      expect(events[1]!.previousHash).toBe(events[0]!.hash);
      events.forEach((event, index) => {
        const { details, ...entry } = entries[index]!;
        expect(event).toMatchObject(entry);
        expect(event.sealedDetails).not.toContain('attempt');
        expect(seal.open(event.sealedDetails)).toEqual(details);
      });
      expect(await verifyAuditChain(log, seal)).toEqual({ intact: true, events: 2 });
    });

    it('appends an entry whose key is in the log already not again', async () => {
      const entry = anEntry(1);
      await log.append(entry);
      await log.append({ ...entry, details: { action: 'a retry of it' } });
      await Promise.all([
        log.append(anEntry(2, { key: 'twice' })),
        log.append(anEntry(3, { key: 'twice' })),
      ]);
      const events = await log.read(0, 10);
      expect(events.map(({ key }) => key)).toEqual([entry.key, 'twice']);
      expect(await log.has(entry.key)).toBe(true);
      expect(await log.has('twice')).toBe(true);
      expect(await log.has('never-appended')).toBe(false);
    });

    it('chains appends of replicas racing each other without a gap, a fork or a repeat', async () => {
      const replicas = [log, replica(), replica()];
      const entries = Array.from({ length: 24 }, (_, n) => anEntry(n));
      await Promise.all([
        ...entries.map((entry, n) => replicas[n % 3]!.append(entry)),
        // Retries of some by another replica.
        ...entries.slice(0, 6).map((entry, n) => replicas[(n + 1) % 3]!.append(entry)),
      ]);
      const events = await replica().read(0, 100);
      expect(events.map(({ sequence }) => sequence)).toEqual(entries.map((_, n) => n + 1));
      expect(new Set(events.map(({ key }) => key))).toEqual(new Set(entries.map(({ key }) => key)));
      expect(await verifyAuditChain(replica(), seal)).toEqual({ intact: true, events: 24 });
    });

    it('reads after a sequence, at most `limit`, in sequence order', async () => {
      for (let n = 1; n <= 5; n += 1) await log.append(anEntry(n));
      expect((await log.read(2, 2)).map(({ sequence }) => sequence)).toEqual([3, 4]);
      expect((await log.read(3, 10)).map(({ sequence }) => sequence)).toEqual([4, 5]);
      expect(await log.read(5, 10)).toEqual([]);
      // At most none is none (MongoDB's limit(0) would mean no limit).
      expect(await log.read(0, 0)).toEqual([]);
      expect(await log.list({}, 0, 0)).toEqual([]);
    });

    it('names a head that never runs ahead of what was written', async () => {
      expect(await log.head()).toBe(0);
      for (let n = 1; n <= 3; n += 1) await log.append(anEntry(n));
      const head = await log.head();
      expect(head).toBeLessThanOrEqual(3);
      expect(await log.read(head - 1, 1)).toHaveLength(head === 0 ? 0 : 1);
    });

    it('lists the events matching every filter given, in sequence order, after a sequence, at most `limit`', async () => {
      const kinds: AuditKind[] = [
        'STATE_CHANGED',
        'PRIVILEGED_READ',
        'STATE_CHANGED',
        'ADMIN_ACTION',
      ];
      for (let n = 0; n < 8; n += 1) await log.append(anEntry(n, { kind: kinds[n % 4]! }));
      const sequences = async (filter: Parameters<AuditLog['list']>[0], after = 0, limit = 100) =>
        (await log.list(filter, after, limit)).map(({ sequence }) => sequence);

      expect(await sequences({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await sequences({ kind: 'STATE_CHANGED' })).toEqual([1, 3, 5, 7]);
      expect(await sequences({ deletionRequestId: 'request-1' })).toEqual([2, 4, 6, 8]);
      expect(await sequences({ subjectPseudonym: 'psn_2' })).toEqual([3, 7]);
      // From is inclusive, until exclusive.
      expect(await sequences({ from: at(2), until: at(5) })).toEqual([3, 4, 5]);
      expect(
        await sequences({ kind: 'STATE_CHANGED', deletionRequestId: 'request-0', from: at(3) }),
      ).toEqual([5, 7]);
      expect(await sequences({ kind: 'STATE_CHANGED' }, 3, 2)).toEqual([5, 7]);
      expect(await sequences({ kind: 'KEY_DESTROYED' })).toEqual([]);
    });

    it('says since when facts are audited: the same instant every time, not in the future', async () => {
      const since = await log.factsAuditedSince();
      expect(since.getTime()).toBeLessThanOrEqual(Date.now());
      expect(await log.factsAuditedSince()).toEqual(since);
      expect(await replica().factsAuditedSince()).toEqual(since);
    });
  });
};

/** What the outbox contract runs against: an outbox over a log that can go away, and another replica's. */
export interface AuditOutboxSubject {
  readonly outbox: AuditOutbox;
  /** Another replica's outbox over the same log. */
  readonly replica: () => AuditOutbox;
  readonly log: AuditLog;
  /** Takes the log away (every append and read fails) or brings it back. */
  readonly setLogDown: (down: boolean) => void;
}

/** The pseudonyms the outboxes under contract name subjects by. */
export const outboxPseudonymOf = fakePseudonymOf;

const change = (to: DeletionState, seconds: number, actor: Actor): StateChange => ({
  from: 'REQUESTED',
  to,
  actor,
  at: at(seconds),
  note: `to ${to}`,
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
});

const answered = (outcome: ParticipantStep['outcome'], seconds: number): ParticipantStep =>
  anAnsweredStep(outcome, at(seconds));

/** A request that recorded two state changes, the first by its subject, nothing of it audited. */
const twoChanges = (): DeletionRequest => {
  const request = aDeletionRequest({ state: 'SCHEDULED', version: 3 });
  return {
    ...request,
    history: [
      change('SCHEDULED', 1, { kind: 'USER', id: request.subjectId }),
      change('SCHEDULED', 2, { kind: 'SYSTEM', id: 'system/purge-worker' }),
    ],
  };
};

/** The events of one request in the log, as kind and key. */
const eventsOf = async (log: AuditLog, request: DeletionRequest) =>
  (await log.list({ deletionRequestId: request.id }, 0, 100)).map(
    (event: AuditEvent) => [event.kind, event.key] as const,
  );

/**
 * The contract of AuditOutbox: what a written request owes past its marks
 * reaches the log once, in order; a failure leaves it owed, never thrown at
 * the writer, for `appendOwed` to append later.
 */
export const describeAuditOutboxContract = (
  name: string,
  makeSubject: () => Promise<AuditOutboxSubject>,
): void => {
  describe(`AuditOutbox contract: ${name}`, () => {
    let subject: AuditOutboxSubject;
    beforeEach(async () => {
      subject = await makeSubject();
    });

    it('hands the state changes a request owes to the log, the subject only as its pseudonym', async () => {
      const { outbox, log } = subject;
      const request = twoChanges();
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.appended();

      const pseudonym = outboxPseudonymOf(request.subjectId);
      const events = await log.list({ deletionRequestId: request.id }, 0, 100);
      expect(events.map(({ kind, key }) => [kind, key])).toEqual([
        ['STATE_CHANGED', `${request.id}#change#0`],
        ['STATE_CHANGED', `${request.id}#change#1`],
      ]);
      expect(events.map(({ subjectPseudonym }) => subjectPseudonym)).toEqual([
        pseudonym,
        pseudonym,
      ]);
      // The subject acting on their own request is named by the pseudonym too.
      expect(events.map(({ actor }) => actor)).toEqual([
        { kind: 'USER', id: pseudonym },
        { kind: 'SYSTEM', id: 'system/purge-worker' },
      ]);
      expect(JSON.stringify(events)).not.toContain(request.subjectId);
      expect(outbox.known(request.id)).toEqual({ changes: 2, notices: 0, answers: [], alerts: [] });
    });

    it('owes only what lies past the request’s marks', async () => {
      const { outbox, log } = subject;
      const request = {
        ...twoChanges(),
        audited: { changes: 1, notices: 0, answers: [], alerts: [] },
      };
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.appended();
      expect(await eventsOf(log, request)).toEqual([['STATE_CHANGED', `${request.id}#change#1`]]);

      const all = { ...request, audited: { changes: 2, notices: 0, answers: [], alerts: [] } };
      outbox.owe(all, NOTHING_AUDITED);
      await outbox.appended();
      expect(await eventsOf(log, request)).toHaveLength(1);
    });

    it('appends the linked services’ own answers, then the notices sent, then the changes, the key’s destruction last', async () => {
      const { outbox, log } = subject;
      const base = twoChanges();
      const request: DeletionRequest = {
        ...base,
        state: 'COMPLETED',
        subjectKeyDestroyedAt: at(9),
        participants: {
          billing: answered({ kind: 'NOTHING_FOUND' }, 3),
          crm: answered(
            { kind: 'MANUAL', records: 1, justification: 'by hand', resolvedBy: 'admin-1' },
            4,
          ),
        },
        sentNotices: [
          {
            key: 'RECEIPT@0',
            kind: 'RECEIPT',
            outcome: 'SENT',
            channel: 'email',
            messageId: 'm-1',
            at: at(1),
          },
        ],
        history: [
          ...base.history,
          { ...change('COMPLETED', 8, base.history[1]!.actor), from: 'ERASING' },
        ],
      };
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.appended();

      expect(await eventsOf(log, request)).toEqual([
        ['PARTICIPANT_ANSWERED', `${request.id}#answer#billing`],
        ['NOTICE_SENT', `${request.id}#notice#RECEIPT@0`],
        ['STATE_CHANGED', `${request.id}#change#0`],
        ['STATE_CHANGED', `${request.id}#change#1`],
        ['STATE_CHANGED', `${request.id}#change#2`],
        ['KEY_DESTROYED', `${request.id}#key_destroyed`],
      ]);
      expect(outbox.known(request.id)).toEqual({
        changes: 3,
        notices: 1,
        answers: ['billing'],
        alerts: [],
      });
    });

    it('never throws at the writer while the log is away: the facts stay owed for appendOwed', async () => {
      const { outbox, log, setLogDown } = subject;
      const request = twoChanges();
      setLogDown(true);
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.appended();
      expect(outbox.known(request.id)).toEqual(NOTHING_AUDITED);
      expect(await rejection(outbox.appendOwed(request))).toMatchObject({ code: 'UNAVAILABLE' });

      setLogDown(false);
      expect(await eventsOf(log, request)).toEqual([]);
      expect(await outbox.appendOwed(request)).toBe(2);
      expect(await eventsOf(log, request)).toHaveLength(2);
      expect(await outbox.appendOwed(request)).toBe(0);
      expect(outbox.known(request.id)).toEqual({ changes: 2, notices: 0, answers: [], alerts: [] });
    });

    it('appends nothing owed that another replica appended already', async () => {
      const { outbox, log, replica } = subject;
      const request = twoChanges();
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.appended();
      expect(await replica().appendOwed(request)).toBe(0);
      expect(await eventsOf(log, request)).toHaveLength(2);
    });

    it('appends an entry after the facts a request owes', async () => {
      const { outbox, log } = subject;
      const request = twoChanges();
      const last: AuditEntry = {
        kind: 'KEY_DESTROYED',
        at: at(10),
        actor: { kind: 'SYSTEM', id: 'system/purge-worker' },
        deletionRequestId: request.id,
        subjectPseudonym: outboxPseudonymOf(request.subjectId),
        details: { key: 'SUBJECT_DATA_KEY' },
        key: `${request.id}#key_destroyed`,
      };
      await outbox.appendAfter(request, last);
      expect(await eventsOf(log, request)).toEqual([
        ['STATE_CHANGED', `${request.id}#change#0`],
        ['STATE_CHANGED', `${request.id}#change#1`],
        ['KEY_DESTROYED', `${request.id}#key_destroyed`],
      ]);
    });

    it('flushes what it was handed to the log', async () => {
      const { outbox, log } = subject;
      const request = twoChanges();
      outbox.owe(request, NOTHING_AUDITED);
      await outbox.flush();
      expect(await eventsOf(log, request)).toHaveLength(2);
    });
  });
};
