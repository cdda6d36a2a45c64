import { describe, expect, it } from 'vitest';
import type { DeletionRequestId } from '../../../src/domain/ids.js';
import {
  afterNoticeSent,
  claimDue,
  claimedNotices,
  dueNotices,
  noticeOfState,
  outboxDueAt,
  owe,
  type OwedNotice,
} from '../../../src/domain/subject-notice.js';

const id = 'req-1' as DeletionRequestId;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 29) + ms);
const facts = {
  id,
  state: 'REQUESTED',
  purgeAt: null,
  legalDeadline: at(30 * 86_400_000),
  history: [],
};
const HOUR = 3_600_000;
const policy = { baseMs: 1000, capMs: 8000, random: () => 0.5, giveUpMs: 72 * HOUR, now: at(10) };

describe('the notice a state owes its subject', () => {
  it('is a receipt with the deadline, then one per state the subject must hear of', () => {
    expect(noticeOfState(facts)).toEqual({
      kind: 'RECEIPT',
      deletionRequestId: id,
      deadline: facts.legalDeadline,
    });
    expect(noticeOfState({ ...facts, state: 'SCHEDULED', purgeAt: at(5) })).toEqual({
      kind: 'SCHEDULED',
      deletionRequestId: id,
      purgeAt: at(5),
    });
    for (const state of ['AWAITING_APPROVAL', 'REJECTED', 'RESTORED'] as const)
      expect(noticeOfState({ ...facts, state })).toEqual({ kind: state, deletionRequestId: id });
    for (const state of ['ERASING', 'COMPLETED', 'CANCELLED', 'EXPIRED', 'NEEDS_ATTENTION'])
      expect(noticeOfState({ ...facts, state })).toBeNull();
  });

  it('is owed once per event, due at once, keyed by the event', () => {
    const receipt = noticeOfState(facts);
    if (receipt === null) throw new Error('no receipt');
    const owed = owe([], receipt, { historyLength: 0, now: at(1) });
    expect(owed).toEqual([
      { key: 'RECEIPT@0', notice: receipt, attempts: 0, owedAt: at(1), dueAt: at(1) },
    ]);
    expect(owe(owed, receipt, { historyLength: 0, now: at(2) })).toEqual(owed);
    const rejected = { kind: 'REJECTED', deletionRequestId: id } as const;
    expect(owe(owed, rejected, { historyLength: 2, now: at(3) }).map((o) => o.key)).toEqual([
      'RECEIPT@0',
      'REJECTED@2',
    ]);
    expect(outboxDueAt([])).toBeNull();
    expect(outboxDueAt(owe(owed, rejected, { historyLength: 2, now: at(0) }))).toEqual(at(0));
  });
});

describe('after a send', () => {
  const receipt: OwedNotice = {
    key: 'RECEIPT@0',
    notice: { kind: 'RECEIPT', deletionRequestId: id, deadline: at(99) },
    attempts: 0,
    owedAt: at(0),
    dueAt: at(0),
  };
  const restored: OwedNotice = {
    key: 'RESTORED@3',
    notice: { kind: 'RESTORED', deletionRequestId: id },
    attempts: 0,
    owedAt: at(0),
    dueAt: at(0),
  };

  it('moves a sent notice to the record with its channel and message id', () => {
    const result = afterNoticeSent(
      { outbox: [receipt, restored], sentNotices: [] },
      { key: 'RECEIPT@0', result: { outcome: 'SENT', channel: 'sms', messageId: 'SM1' } },
      policy,
    );
    expect(result).toEqual({
      outbox: [restored],
      sentNotices: [
        {
          key: 'RECEIPT@0',
          kind: 'RECEIPT',
          outcome: 'SENT',
          channel: 'sms',
          messageId: 'SM1',
          at: at(10),
        },
      ],
    });
  });

  it('keeps a notice whose channel was down, due again after back-off, until it gives up on it', () => {
    const retry = { key: 'RECEIPT@0', result: { outcome: 'RETRY' } } as const;
    expect(afterNoticeSent({ outbox: [receipt], sentNotices: [] }, retry, policy)).toEqual({
      outbox: [{ ...receipt, attempts: 1, dueAt: at(510) }],
      sentNotices: [],
    });
    // Many tries within the window are still tried again; the back-off stops at its cap.
    const often = { ...receipt, attempts: 40 };
    const later = { ...policy, now: at(71 * HOUR) };
    expect(afterNoticeSent({ outbox: [often], sentNotices: [] }, retry, later).outbox).toEqual([
      { ...often, attempts: 41, dueAt: at(71 * HOUR + 4000) },
    ]);
    const tooLate = { ...policy, now: at(72 * HOUR) };
    expect(
      afterNoticeSent({ outbox: [often], sentNotices: [] }, retry, tooLate).sentNotices,
    ).toEqual([expect.objectContaining({ outcome: 'UNDELIVERABLE', channel: null })]);
  });

  it('sends the head of the outbox in order: one backing off holds back those after it', () => {
    const waiting = { ...receipt, dueAt: at(50) };
    expect(dueNotices([receipt, restored], at(0))).toEqual([receipt, restored]);
    expect(dueNotices([waiting, restored], at(10))).toEqual([]);
    expect(dueNotices([restored, waiting], at(10))).toEqual([restored]);
    expect(dueNotices([], at(10))).toEqual([]);
  });

  it('claims the due head of the outbox for whoever writes it, and finds what it claimed', () => {
    const waiting = { ...receipt, dueAt: at(50) };
    const outbox = [restored, waiting];
    const claimed = claimDue(outbox, at(10), at(70));
    expect(claimed).toEqual([{ ...restored, dueAt: at(70) }, waiting]);
    expect(dueNotices(claimed, at(10))).toEqual([]);
    expect(claimedNotices(claimed, at(70))).toEqual([{ ...restored, dueAt: at(70) }]);
    // Nothing due: the same outbox, and nothing claimed in it.
    const nothingDue = [waiting];
    expect(claimDue(nothingDue, at(10), at(70))).toBe(nothingDue);
    expect(claimedNotices(nothingDue, at(70))).toEqual([]);
  });

  it('records an undeliverable notice and ignores results for notices no longer owed', () => {
    const recorded = afterNoticeSent(
      { outbox: [restored], sentNotices: [] },
      { key: 'RESTORED@3', result: { outcome: 'UNDELIVERABLE' } },
      policy,
    );
    // The receipt is no longer owed (recorded by a concurrent round): its result is ignored.
    const result = afterNoticeSent(
      recorded,
      { key: 'RECEIPT@0', result: { outcome: 'SENT', channel: 'email', messageId: null } },
      policy,
    );
    expect(result.outbox).toEqual([]);
    expect(result.sentNotices).toEqual([
      expect.objectContaining({ key: 'RESTORED@3', outcome: 'UNDELIVERABLE', messageId: null }),
    ]);
  });
});
