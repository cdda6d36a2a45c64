import { describe, expect, it, vi } from 'vitest';
import { auditTransitions, createAuditOutbox } from '../../../src/app/audit/audit-trail.js';
import type { AuditLog } from '../../../src/app/ports/audit-log.js';
import type { DeletionRequestRepository } from '../../../src/app/ports/deletion-request-repository.js';
import type { AuditEntry } from '../../../src/domain/audit-event.js';
import { NOTHING_AUDITED } from '../../../src/domain/audit-marks.js';
import type { DeletionRequest, StateChange } from '../../../src/domain/deletion-request.js';
import type { ParticipantStep } from '../../../src/domain/erasure-steps.js';
import type { SentNotice } from '../../../src/domain/subject-notice.js';
import { aDeletionRequest, BUILT_AT } from '../../fixtures/deletion-request-builder.js';

const change = (to: StateChange['to'], n: number): StateChange => ({
  from: 'REQUESTED',
  to,
  actor: { kind: 'SYSTEM', id: 'system/test' },
  at: new Date(BUILT_AT.getTime() + n * 1000),
  note: '',
  traceId: '',
  spanId: '',
});

/**
 * A log that keeps entries by key (a repeat is not appended again), or fails
 * while `down`; replicas share one by sharing its entries and state.
 */
const fakeLog = (
  entries = new Map<string, AuditEntry>(),
  state = { down: false, appends: 0, reads: 0 },
) => {
  const away = () => Promise.reject(new Error('log away'));
  const log = {
    append: (entry: AuditEntry) => {
      state.appends += 1;
      if (state.down) return away();
      if (!entries.has(entry.key)) entries.set(entry.key, entry);
      return Promise.resolve();
    },
    has: (key: string) => {
      state.reads += 1;
      return state.down ? away() : Promise.resolve(entries.has(key));
    },
  } as unknown as AuditLog;
  return { log, entries, state };
};

/** A repository that stores whatever it is given (version-guarded). */
const fakeRequests = (start: DeletionRequest) => {
  let stored = start;
  const requests = {
    update: (next: DeletionRequest, previous: DeletionRequest) => {
      if (stored.version !== previous.version) return Promise.resolve(false);
      stored = next;
      return Promise.resolve(true);
    },
  } as unknown as DeletionRequestRepository;
  return { requests, stored: () => stored };
};

const setup = () => {
  const { log, entries, state } = fakeLog();
  const onFailure = vi.fn();
  const outbox = createAuditOutbox({ log, pseudonymOf: (id) => `psn_${id}`, onFailure });
  const request = aDeletionRequest();
  const repo = fakeRequests(request);
  return {
    outbox,
    entries,
    state,
    onFailure,
    request,
    repo,
    requests: auditTransitions(repo.requests, outbox),
  };
};

const next = (request: DeletionRequest, to: StateChange['to']): DeletionRequest => ({
  ...request,
  state: to,
  version: request.version + 1,
  history: [...request.history, change(to, request.history.length + 1)],
});

describe('the audit outbox', () => {
  it('owes a change in the write that makes it, appends it soon, and records that in the next write', async () => {
    const { outbox, entries, request, repo, requests } = setup();
    const scheduled = next(request, 'SCHEDULED');
    expect(await requests.update(scheduled, request)).toBe(true);
    expect(repo.stored().audited.changes).toBe(0);
    expect(entries.size).toBe(0);

    await outbox.flush();
    expect([...entries.keys()]).toEqual([`${request.id}#change#0`]);
    expect(entries.get(`${request.id}#change#0`)).toMatchObject({
      kind: 'STATE_CHANGED',
      subjectPseudonym: `psn_${request.subjectId}`,
      details: { from: 'REQUESTED', to: 'SCHEDULED' },
    });

    const erasing = next(scheduled, 'ERASING');
    expect(await requests.update(erasing, scheduled)).toBe(true);
    expect(repo.stored().audited.changes).toBe(1);
    await outbox.flush();
    expect(entries.size).toBe(2);
  });

  it('appends the changes of several writes gathered together, each once', async () => {
    const { outbox, entries, state, request, requests } = setup();
    const scheduled = next(request, 'SCHEDULED');
    await requests.update(scheduled, request);
    // A second write of the same request before the first append: nothing more to hand over.
    await requests.update({ ...scheduled, version: scheduled.version + 1 }, scheduled);
    await outbox.flush();
    expect(entries.size).toBe(1);
    expect(state.appends).toBe(1);
  });

  it('leaves a change owed on the request when the log is away, and the next write hands it over again', async () => {
    const { outbox, entries, state, onFailure, request, repo, requests } = setup();
    state.down = true;
    const scheduled = next(request, 'SCHEDULED');
    await requests.update(scheduled, request);
    await outbox.flush();
    expect(onFailure).toHaveBeenCalledOnce();
    expect(repo.stored().audited.changes).toBe(0);

    state.down = false;
    const erasing = next(scheduled, 'ERASING');
    await requests.update(erasing, scheduled);
    await outbox.flush();
    expect([...entries.keys()]).toEqual([`${request.id}#change#0`, `${request.id}#change#1`]);
  });

  it('skips the changes another replica made and appended: one read, not a repeat of each', async () => {
    const { outbox, entries, state, request, repo, requests } = setup();
    const replica = createAuditOutbox({
      log: fakeLog(entries, state).log,
      pseudonymOf: (id) => `psn_${id}`,
      onFailure: vi.fn(),
    });
    const other = auditTransitions(repo.requests, replica);
    const scheduled = next(request, 'SCHEDULED');
    const erasing = next(scheduled, 'ERASING');
    await other.update(scheduled, request);
    await other.update(erasing, scheduled);
    await replica.flush();
    const before = { ...state };

    // This replica knows nothing of them; its write owes all three changes.
    await requests.update(next(erasing, 'COMPLETED'), erasing);
    await outbox.flush();
    expect({ reads: state.reads - before.reads, appends: state.appends - before.appends }).toEqual({
      reads: 1,
      appends: 1,
    });
    expect([...entries.keys()]).toEqual([0, 1, 2].map((n) => `${request.id}#change#${String(n)}`));
  });

  it('appends the changes another replica made when their last is not in the log yet', async () => {
    const { outbox, entries, request, repo, requests } = setup();
    // Written by a replica that died before its outbox appended the change.
    const scheduled = next(request, 'SCHEDULED');
    await repo.requests.update(scheduled, request);
    await requests.update(next(scheduled, 'ERASING'), scheduled);
    await outbox.flush();
    expect([...entries.keys()]).toEqual([`${request.id}#change#0`, `${request.id}#change#1`]);
  });

  it('appends what a request owes at once on request, from where its record says', async () => {
    const { outbox, entries, request } = setup();
    const owing = {
      ...next(next(request, 'SCHEDULED'), 'ERASING'),
      audited: { ...NOTHING_AUDITED, changes: 1 },
    };
    await outbox.appendOwed(owing);
    expect([...entries.keys()]).toEqual([`${request.id}#change#1`]);
    expect(outbox.known(request.id)).toEqual({ changes: 2, notices: 0, answers: [], alerts: [] });
  });

  it('settles appended() once the group gathering now is in the log, without cutting it short', async () => {
    vi.useFakeTimers();
    try {
      const { outbox, entries, request, requests } = setup();
      await requests.update(next(request, 'SCHEDULED'), request);
      let settled = false;
      const appended = outbox.appended().then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(10);
      expect(settled).toBe(false);
      expect(entries.size).toBe(0);
      await vi.advanceTimersByTimeAsync(20);
      await appended;
      expect(entries.size).toBe(1);
      // Nothing gathering: settles at once.
      await outbox.appended();
    } finally {
      vi.useRealTimers();
    }
  });

  it('owes KEY_DESTROYED after the change that completed the request with its key destroyed', async () => {
    const { outbox, entries, request } = setup();
    const erasing = next(next(request, 'SCHEDULED'), 'ERASING');
    const destroyedAt = new Date(BUILT_AT.getTime() + 9000);
    const completed = { ...next(erasing, 'COMPLETED'), subjectKeyDestroyedAt: destroyedAt };
    await outbox.appendOwed(completed);
    expect([...entries.keys()]).toEqual([
      `${request.id}#change#0`,
      `${request.id}#change#1`,
      `${request.id}#change#2`,
      `${request.id}#key_destroyed`,
    ]);
    expect(entries.get(`${request.id}#key_destroyed`)).toMatchObject({
      kind: 'KEY_DESTROYED',
      at: destroyedAt,
      subjectPseudonym: `psn_${request.subjectId}`,
    });
    // Completed with the key still there (an earlier version): only the change is owed.
    const { outbox: other, entries: others } = setup();
    await other.appendOwed(next(erasing, 'COMPLETED'));
    expect([...others.keys()].some((key) => key.endsWith('#key_destroyed'))).toBe(false);
  });

  it('owes a notice sent and a final answer in the write that records them, each once', async () => {
    const { outbox, entries, state, request, repo, requests } = setup();
    const restored = next(request, 'RESTORED');
    await requests.update(restored, request);
    await outbox.flush();
    // The notice of the restoration goes after the change, with no change of its own.
    const told = {
      ...restored,
      version: restored.version + 1,
      sentNotices: [sent('RESTORED', 5)],
    };
    await requests.update(told, restored);
    await outbox.flush();
    expect([...entries.keys()]).toEqual([
      `${request.id}#change#0`,
      `${request.id}#notice#RESTORED`,
    ]);
    expect(entries.get(`${request.id}#notice#RESTORED`)).toMatchObject({
      kind: 'NOTICE_SENT',
      details: { notice: 'RESTORED', outcome: 'SENT', channel: 'email' },
    });
    // A later write records it in, and hands nothing over again.
    const appends = state.appends;
    await requests.update({ ...told, version: told.version + 1 }, told);
    await outbox.flush();
    expect(repo.stored().audited).toEqual({ changes: 1, notices: 1, answers: [], alerts: [] });
    expect(state.appends).toBe(appends);

    const { outbox: other, entries: answered, request: erasing, requests: others } = setup();
    const withAnswer = {
      ...erasing,
      version: erasing.version + 1,
      participants: { crm: done('ERASED'), billing: { ...done('ERASED'), outcome: null } },
    };
    await others.update(withAnswer, erasing);
    await other.flush();
    expect([...answered.keys()]).toEqual([`${erasing.id}#answer#crm`]);
    expect(answered.get(`${erasing.id}#answer#crm`)).toMatchObject({
      kind: 'PARTICIPANT_ANSWERED',
      details: { participant: 'crm', outcome: 'ERASED' },
    });
  });

  it('skips the notices another replica recorded and appended: one read, not a repeat of each', async () => {
    const { outbox, entries, state, request, repo, requests } = setup();
    const replica = createAuditOutbox({
      log: fakeLog(entries, state).log,
      pseudonymOf: (id) => `psn_${id}`,
      onFailure: vi.fn(),
    });
    const told = {
      ...request,
      version: 2,
      sentNotices: [sent('RECEIPT', 1), sent('CONFIRMATION_CODE', 2)],
    };
    await auditTransitions(repo.requests, replica).update(told, request);
    await replica.flush();
    const before = { ...state };

    await requests.update(next(told, 'SCHEDULED'), told);
    await outbox.flush();
    expect({ reads: state.reads - before.reads, appends: state.appends - before.appends }).toEqual({
      reads: 1,
      appends: 1,
    });
    expect(entries.size).toBe(3);
  });
});

/** A notice recorded as sent `n` seconds after the build. */
const sent = (kind: SentNotice['kind'], n: number): SentNotice => ({
  key: kind,
  kind,
  outcome: 'SENT',
  channel: 'email',
  messageId: null,
  at: new Date(BUILT_AT.getTime() + n * 1000),
});

/** A step a linked service answered. */
const done = (kind: 'ERASED' | 'NOTHING_FOUND'): ParticipantStep => ({
  status: 'DONE',
  attempts: 1,
  lastErrorCode: null,
  nextAttemptAt: null,
  expectedBy: null,
  outcome: kind === 'ERASED' ? { kind, records: 1, categories: [] } : { kind },
  updatedAt: BUILT_AT,
});
