import {
  deletionRequest_StateToJSON as stateName,
  participantProgress_StatusToJSON as statusName,
  ownerAlert_StatusToJSON as alertStatusName,
  type DeletionRequest,
  type ParticipantProgress,
} from '@account-deletion/grpc-client/gen/deletion/v1/deletion_request.js';
import {
  auditEventKindToJSON,
  safetyStatus_PauseReasonToJSON,
  verifyAuditLogResponse_ProblemToJSON,
  type AuditEvent,
  type SafetyStatus,
  type VerifyAuditLogResponse,
} from '@account-deletion/grpc-client/gen/deletion/v1/deletion_service.js';
import type { DeletionEventView } from '@account-deletion/trpc-client';

/** ANSI colours, or none (not a TTY, NO_COLOR set, or --json). */
export interface Paint {
  readonly ok: (text: string) => string;
  readonly bad: (text: string) => string;
  readonly pending: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

const ansi =
  (code: number) =>
  (text: string): string =>
    `\u001b[${String(code)}m${text}\u001b[0m`;

export const paint = (colour: boolean): Paint => {
  const plain = (text: string) => text;
  return colour
    ? { ok: ansi(32), bad: ansi(31), pending: ansi(33), dim: ansi(2), bold: ansi(1) }
    : { ok: plain, bad: plain, pending: plain, dim: plain, bold: plain };
};

const short = (name: string) => name.replace(/^deletionRequests\//, '');
const time = (at: Date | undefined) => (at ? at.toISOString() : '-');
const state = (value: DeletionRequest['state']) => stateName(value).replace(/^STATE_/, '');
const stepStatus = (value: ParticipantProgress['status']) =>
  statusName(value).replace(/^STATUS_/, '');

const colourOf = (p: Paint, label: string): string =>
  ['COMPLETED', 'DONE', 'RESTORED'].includes(label)
    ? p.ok(label)
    : ['NEEDS_ATTENTION', 'FAILED', 'REJECTED', 'EXPIRED'].includes(label)
      ? p.bad(label)
      : p.pending(label);

/** One line per request: id, state, subject, created. */
export const renderList = (requests: readonly DeletionRequest[], p: Paint): string =>
  requests
    .map(
      (r) =>
        `${short(r.name)}  ${colourOf(p, state(r.state)).padEnd(18)}  ${r.subjectId}  ${time(r.createTime)}`,
    )
    .join('\n');

const outcomeOf = (step: ParticipantProgress): string => {
  const parts = [step.outcome || '-'];
  if (step.outcome === 'ERASED' || step.outcome === 'RETAINED' || step.outcome === 'MANUAL')
    parts.push(`${step.records} records`);
  if (step.categories.length > 0) parts.push(`[${step.categories.join(', ')}]`);
  if (step.legalBasis) parts.push(`kept: ${step.legalBasis} until ${time(step.retainedUntil)}`);
  if (step.justification) parts.push(`resolved: ${step.justification}`);
  return parts.join(' ');
};

/** The request at a glance: its state, dates and each linked service's step. */
export const renderRequest = (r: DeletionRequest, p: Paint): string => {
  const lines = [
    `${p.bold(short(r.name))}  ${colourOf(p, state(r.state))}`,
    `  subject       ${r.subjectId}  (${r.jurisdiction}, legal deadline ${time(r.legalDeadline)})`,
    `  requested by  ${r.requester?.id ?? '-'} at ${time(r.createTime)}`,
    `  soft-deleted  ${time(r.deleteTime)}   purge ${time(r.purgeTime)}   completed ${time(r.completeTime)}`,
  ];
  if (r.reviewer)
    lines.push(`  reviewer      ${r.reviewer.id}${r.reviewNote ? `: ${r.reviewNote}` : ''}`);
  for (const step of r.participants) {
    const label = stepStatus(step.status);
    lines.push(
      `  ${step.participant.padEnd(14)}${colourOf(p, label).padEnd(10)} ${outcomeOf(step)}` +
        p.dim(`  attempts ${String(step.attempts)}`),
    );
  }
  return lines.join('\n');
};

/**
 * Every event of a request in time order: state changes (who, why, trace id),
 * each linked service's last step (attempts, error, next try, outcome), the
 * final notice.
 */
export const renderTimeline = (r: DeletionRequest, p: Paint): string => {
  const created = {
    at: r.createTime,
    text:
      `${colourOf(p, 'REQUESTED')}  by ${r.requester?.id ?? '-'}${r.reason ? ` (${r.reason})` : ''}` +
      (r.createTraceId ? p.dim(`  trace ${r.createTraceId}`) : ''),
  };
  const events: { at: Date | undefined; text: string }[] = r.history.map((change) => ({
    at: change.time,
    text:
      `${state(change.fromState)} → ${colourOf(p, state(change.toState))}  ` +
      `by ${change.actor?.id ?? '-'}${change.note ? ` (${change.note})` : ''}` +
      (change.traceId ? p.dim(`  trace ${change.traceId}`) : ''),
  }));
  for (const step of r.participants) {
    const label = stepStatus(step.status);
    const details = [
      `attempts ${String(step.attempts)}`,
      step.lastErrorCode ? `last error ${step.lastErrorCode}` : '',
      step.nextAttemptTime ? `next try ${time(step.nextAttemptTime)}` : '',
      step.expectedBy ? `report expected by ${time(step.expectedBy)}` : '',
    ].filter((part) => part !== '');
    events.push({
      at: step.updateTime,
      text: `${p.bold(step.participant)}: ${colourOf(p, label)} ${outcomeOf(step)}  ${p.dim(details.join(', '))}`,
    });
  }
  const extension = r.deadlineExtension;
  if (extension)
    events.push({
      at: extension.extendTime,
      text:
        `deadline extended ${time(extension.previousDeadline)} → ${time(r.legalDeadline)}  ` +
        `by ${extension.actor?.id ?? '-'}${extension.reason ? ` (${extension.reason})` : ''}` +
        (extension.traceId ? p.dim(`  trace ${extension.traceId}`) : ''),
    });
  for (const sent of r.sentNotices)
    if (sent.kind !== 'COMPLETED')
      events.push({
        at: sent.sendTime,
        text:
          sent.outcome === 'SENT'
            ? `subject told: ${sent.kind} by ${sent.channel}`
            : `subject not reached: ${sent.kind} (${sent.outcome})`,
      });
  if (r.finalNoticeTime)
    events.push({ at: r.finalNoticeTime, text: 'subject told: erasure complete' });
  for (const alert of r.ownerAlerts)
    events.push({
      at: alert.settleTime ?? alert.oweTime,
      text:
        `owner ${p.bold(alert.team)} of ${alert.linkedService} alerted: ` +
        colourOf(p, alertStatusName(alert.status).replace(/^STATUS_/, '')) +
        (alert.attempts > 1 ? ` after ${String(alert.attempts)} attempts` : '') +
        (alert.traceId ? p.dim(`  trace ${alert.traceId}`) : ''),
    });
  events.sort((a, b) => (a.at?.getTime() ?? 0) - (b.at?.getTime() ?? 0));
  return [
    `${p.bold(short(r.name))}  ${colourOf(p, state(r.state))}  subject ${r.subjectId}`,
    ...[created, ...events].map((event) => `${time(event.at)}  ${event.text}`),
  ].join('\n');
};

type ProgressView = Extract<DeletionEventView, { kind: 'PARTICIPANT_CHANGED' }>['participant'];

const viewOutcome = (step: ProgressView): string => {
  const outcome = step.outcome;
  switch (outcome?.kind) {
    case undefined:
      return '';
    case 'NOTHING_FOUND':
      return outcome.kind;
    case 'ERASED':
      return `${outcome.kind} ${String(outcome.records)} records [${outcome.categories.join(', ')}]`;
    case 'RETAINED':
      return `${outcome.kind} ${String(outcome.erasedRecords)} records [${outcome.categories.join(', ')}] kept: ${outcome.legalBasis} until ${outcome.until ?? '-'}`;
    case 'MANUAL':
      return `${outcome.kind} ${String(outcome.records)} records, resolved by ${outcome.resolvedBy}: ${outcome.justification}`;
  }
};

/** One line per live event of `deletionctl watch`, in the timeline's style. */
export const renderEvent = (event: DeletionEventView, p: Paint): string => {
  switch (event.kind) {
    case 'SNAPSHOT': {
      const r = event.request;
      return `${p.bold(short(r.name))}  ${colourOf(p, r.state)}  subject ${r.subjectId}  (${String(r.history.length)} state changes so far)`;
    }
    case 'STATE_CHANGED': {
      const c = event.change;
      return (
        `${c.time}  ${c.fromState} → ${colourOf(p, c.toState)}  by ${c.actor.id}` +
        (c.note ? ` (${c.note})` : '') +
        (c.traceId ? p.dim(`  trace ${c.traceId}`) : '')
      );
    }
    case 'PARTICIPANT_CHANGED': {
      const s = event.participant;
      const details = [
        `attempts ${String(s.attempts)}`,
        s.lastErrorCode ? `last error ${s.lastErrorCode}` : '',
        s.nextAttemptTime ? `next try ${s.nextAttemptTime}` : '',
        s.expectedBy ? `report expected by ${s.expectedBy}` : '',
      ].filter((part) => part !== '');
      return `${s.updateTime}  ${p.bold(s.participant)}: ${colourOf(p, s.status)} ${viewOutcome(s)}  ${p.dim(details.join(', '))}`;
    }
    case 'RECONNECT':
      return p.dim('the server is shutting down; reconnecting');
  }
};

/** One line per audit event: sequence, time, kind, actor, request, details. */
export const renderAuditEvents = (events: readonly AuditEvent[], p: Paint): string =>
  events
    .map((event) => {
      const kind = auditEventKindToJSON(event.kind).replace(/^AUDIT_EVENT_KIND_/, '');
      const details = Object.entries(event.details)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ');
      return [
        p.dim(`#${event.sequence}`),
        time(event.time),
        p.bold(kind),
        event.actor?.id ?? '-',
        event.deletionRequest ? short(event.deletionRequest) : '-',
        details,
      ].join('  ');
    })
    .join('\n');

/** The audit chain's verdict in one line, then its completeness, each gap on a line of its own. */
export const renderVerdict = (verdict: VerifyAuditLogResponse, p: Paint): string => {
  const chain = verdict.intact
    ? p.ok(`intact: ${verdict.events} events, every link holds`)
    : p.bad(
        `BROKEN at sequence ${verdict.firstBadSequence}: ${verifyAuditLogResponse_ProblemToJSON(
          verdict.problem,
        ).replace(/^PROBLEM_/, '')} (${verdict.events} events before it are good)`,
      );
  const counts = `${verdict.eventsExpected} events called for by ${verdict.requestsChecked} requests, ${verdict.eventsOwed} on their way`;
  const completeness = verdict.complete
    ? p.ok(`complete: ${counts}`)
    : p.bad(`INCOMPLETE: ${verdict.gapCount} missing of ${counts}`);
  const gaps = verdict.gaps.map(
    (gap) =>
      `  ${time(gap.time)}  ${short(gap.deletionRequest)}  ${auditEventKindToJSON(gap.kind).replace(/^AUDIT_EVENT_KIND_/, '')}  ${gap.what}`,
  );
  return [chain, completeness, ...gaps].join('\n');
};

/** The mass-deletion breaker at a glance. */
export const renderSafety = (status: SafetyStatus, p: Paint): string => {
  const window = `${status.startedInWindow}/${status.limit} erasures started in the last ${
    status.window?.seconds ?? '?'
  } s (per requester: ${status.requesterLimit})`;
  const head = status.paused
    ? p.bad(
        `PAUSED since ${time(status.pauseTime)}: ${safetyStatus_PauseReasonToJSON(status.reason).replace(/^PAUSE_REASON_/, '')}${status.requester ? ` (${status.requester})` : ''}`,
      )
    : p.ok('erasures running');
  const resumed = status.resumeTime
    ? `\nlast resumed ${time(status.resumeTime)} by ${status.resumedBy?.id ?? '-'}`
    : '';
  return `${head}\n${window}${resumed}`;
};
