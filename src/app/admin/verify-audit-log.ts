import {
  alertKey,
  answerKey,
  changeKey,
  MAX_NAMED_GAPS,
  noticeKey,
  type AuditCompleteness,
  type AuditEvent,
  type AuditGap,
  type AuditVerdict,
} from '../../domain/audit-event.js';
import { OWED_AUDIT_GRACE_MS } from '../worker/append-owed-audit.js';
import { authorize } from '../../domain/authorization.js';
import type { Principal } from '../../domain/principal.js';
import { isServiceAnswer } from '../../domain/audit-marks.js';
import { auditPrivilegedRead, verifyAuditChain } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { noInput, parseInput } from '../inputs.js';

const RECORDS_PAGE = 500;

/** The events the requests' records call for, by key: read before the chain, so none is missed. */
const expectedEvents = async (
  deps: Pick<DeletionDeps, 'requests' | 'clock' | 'audit'>,
): Promise<{ readonly expected: Map<string, AuditGap & { owed: boolean }>; requests: number }> => {
  const expected = new Map<string, AuditGap & { owed: boolean }>();
  const owedSince = deps.clock.now().getTime() - OWED_AUDIT_GRACE_MS;
  // Answers and notices an earlier version recorded have no events.
  const factsSince = (await deps.audit.log.factsAuditedSince()).getTime();
  let requests = 0;
  let after = '';
  for (;;) {
    const page = await deps.requests.listAuditRecords(after, RECORDS_PAGE);
    for (const record of page) {
      const id = record.id;
      const expect = (gap: Omit<AuditGap, 'deletionRequestId'>, owed: boolean): void => {
        expected.set(gap.key, { ...gap, deletionRequestId: id, owed });
      };
      const { audited } = record;
      // Owed by a write of the last minute: its writer's outbox is appending it.
      const recent = (at: Date) => at.getTime() > owedSince;
      record.changes.forEach((change, index) => {
        const owed = index >= audited.changes && recent(change.at);
        const what = `${change.from} → ${change.to}`;
        expect({ key: changeKey(id, index), kind: 'STATE_CHANGED', what, at: change.at }, owed);
      });
      const answered = new Set(audited.answers);
      for (const { participant, outcome, at } of record.answers) {
        if (!isServiceAnswer(outcome) || at.getTime() < factsSince) continue;
        const what = `${participant}: ${outcome}`;
        const owed = !answered.has(participant) && recent(at);
        expect({ key: answerKey(id, participant), kind: 'PARTICIPANT_ANSWERED', what, at }, owed);
      }
      const alerted = new Set(audited.alerts);
      for (const { participant, at } of record.alerts) {
        const owed = !alerted.has(participant) && recent(at);
        const what = `${participant} owner alert`;
        expect({ key: alertKey(id, participant), kind: 'OWNER_ALERTED', what, at }, owed);
      }
      record.notices.forEach(({ key, at }, index) => {
        if (at.getTime() < factsSince) return;
        const owed = index >= audited.notices && recent(at);
        expect({ key: noticeKey(id, key), kind: 'NOTICE_SENT', what: `${key} notice`, at }, owed);
      });
    }
    requests += page.length;
    const last = page.at(-1);
    if (last === undefined || page.length < RECORDS_PAGE) break;
    after = last.id;
  }
  return { expected, requests };
};

/** A chain verdict and whether the log holds everything requests record. */
export type AuditVerification = AuditVerdict & { readonly completeness: AuditCompleteness };

/**
 * Checks the whole chain (the first broken link) and its completeness: every
 * state change, final answer of a linked service, notice sent and owner
 * alert settled that a request records has its event; the ones that do not are named (events
 * owed by a write of the last minute are on their way, counted apart). The
 * records are read before the chain, so an event appended meanwhile is
 * seen. The check is audited after it ran, best effort: a log cut short
 * cannot be appended to, and the verdict that says so matters more than the
 * record of asking.
 */
export const verifyAuditLog =
  (deps: Pick<DeletionDeps, 'audit' | 'clock' | 'ids' | 'pseudonymOf' | 'requests'>) =>
  async (principal: Principal, raw?: unknown): Promise<AuditVerification> => {
    authorize(principal, 'verifyAuditLog');
    parseInput(noInput, raw);
    const { expected, requests } = await expectedEvents(deps);
    const calledFor = expected.size;
    const seen = (event: AuditEvent) => expected.delete(event.key);
    const verdict = await verifyAuditChain(deps.audit.log, deps.audit.seal, seen);
    // Past a break the chain is not trusted, but its events still count as present: the gaps
    // named are then events missing from the log, not everything after the break.
    if (!verdict.intact)
      for (let after = verdict.firstBadSequence; ;) {
        const page = await deps.audit.log.read(after, RECORDS_PAGE);
        page.forEach(seen);
        const last = page.at(-1);
        if (last === undefined || page.length < RECORDS_PAGE) break;
        after = last.sequence;
      }
    const missing = [...expected.values()];
    const gaps = missing.filter((gap) => !gap.owed).sort((a, b) => a.at.getTime() - b.at.getTime());
    const completeness: AuditCompleteness = {
      complete: gaps.length === 0,
      requests,
      expected: calledFor,
      owed: missing.length - gaps.length,
      gapCount: gaps.length,
      gaps: gaps.slice(0, MAX_NAMED_GAPS).map(({ deletionRequestId, key, kind, what, at }) => ({
        deletionRequestId,
        key,
        kind,
        what,
        at,
      })),
    };
    await auditPrivilegedRead(deps, principal, {
      operation: 'verifyAuditLog',
      details: { intact: String(verdict.intact), complete: String(completeness.complete) },
    }).catch(() => undefined);
    return { ...verdict, completeness };
  };
