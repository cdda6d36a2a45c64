import { retryAt, type ParticipantSpec, type RetryPolicy } from './erasure-steps.js';
import { deletionRequestName, type DeletionRequestId } from './ids.js';

/** Where an alert stands: owed (due at `dueAt`), or settled one way for good. */
export type OwnerAlertStatus = 'OWED' | 'SENT' | 'GIVEN_UP' | 'NO_WEBHOOK';

/**
 * An alert a request owes the team that owns a linked service, because the
 * request needs attention on that service's account. Kept in the request from
 * the change that owes it (the outbox, like the subject's notices) and, once
 * settled, as the record that it went: one per request and service, ever. No
 * personal data: names, codes, times and a trace id.
 */
export interface OwnerAlert {
  /** The linked service the request is stuck on. */
  readonly participant: string;
  /** The team that owns it (as registered when the alert was owed). */
  readonly team: string;
  /** The service's last error reason (an UPPER_SNAKE code), null when none was recorded. */
  readonly reason: string | null;
  /** The trace of the change to NEEDS_ATTENTION ('' when unknown). */
  readonly traceId: string;
  /** When the request needed attention (the alert's time). */
  readonly owedAt: Date;
  readonly status: OwnerAlertStatus;
  /** Deliveries tried so far. */
  readonly attempts: number;
  /** When it is (next) due; null once settled. */
  readonly dueAt: Date | null;
  /** When it was sent or given up; null while owed. */
  readonly settledAt: Date | null;
}

/** How an alert's delivery went. RETRY: the webhook was down; REFUSED: it refused it for good. */
export type OwnerAlertResult = 'SENT' | 'RETRY' | 'REFUSED' | 'NO_WEBHOOK';

/** How alerts are tried again: a capped, jittered back-off, `maxAttempts` deliveries at most. */
export interface OwnerAlertPolicy extends RetryPolicy {
  readonly maxAttempts: number;
}

/** An error reason as it may leave the service: a stable code, never free text. */
const REASON = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The facts of a request an alert is owed from. */
interface AlertFacts {
  readonly participants: Readonly<Record<string, { readonly lastErrorCode: string | null }>>;
  readonly history: readonly { readonly traceId: string }[];
  readonly ownerAlerts: readonly OwnerAlert[];
}

/**
 * The request with an alert owed to the owner of each of `failed` that has
 * one registered, due at `now`, in the same write as the change to
 * NEEDS_ATTENTION (its latest history entry gives the trace). A service
 * alerted for this request before (owed or settled) is not alerted again.
 */
export const oweOwnerAlerts = <R extends AlertFacts>(
  request: R,
  failed: readonly string[],
  registry: { readonly specs: readonly ParticipantSpec[]; readonly now: Date },
): R => {
  const { specs, now } = registry;
  const known = new Set(request.ownerAlerts.map((alert) => alert.participant));
  const traceId = request.history.at(-1)?.traceId ?? '';
  const owed = failed.flatMap((participant): OwnerAlert[] => {
    const team = specs.find((spec) => spec.name === participant)?.owner?.team;
    if (team === undefined || known.has(participant)) return [];
    const reason = request.participants[participant]?.lastErrorCode ?? null;
    return [
      {
        participant,
        team,
        reason: reason !== null && REASON.test(reason) ? reason : null,
        traceId,
        owedAt: now,
        status: 'OWED',
        attempts: 0,
        dueAt: now,
        settledAt: null,
      },
    ];
  });
  return owed.length === 0
    ? request
    : { ...request, ownerAlerts: [...request.ownerAlerts, ...owed] };
};

/** The earliest time an owed alert is due, or null when none is owed. */
export const ownerAlertsDueAt = (alerts: readonly OwnerAlert[]): Date | null =>
  alerts.reduce<Date | null>(
    (earliest, { dueAt }) =>
      dueAt === null || (earliest !== null && earliest <= dueAt) ? earliest : dueAt,
    null,
  );

/**
 * The alerts with those due at `now` claimed until `until` (their due time
 * moved there): whoever writes it delivers them, and no one else finds them
 * due before then. The same array when none is due.
 */
export const claimDueAlerts = (
  alerts: readonly OwnerAlert[],
  now: Date,
  until: Date,
): readonly OwnerAlert[] =>
  alerts.some((alert) => alert.dueAt !== null && alert.dueAt <= now)
    ? alerts.map((alert) =>
        alert.dueAt !== null && alert.dueAt <= now ? { ...alert, dueAt: until } : alert,
      )
    : alerts;

/** The alerts claimed until `until` (by `claimDueAlerts`). */
export const claimedAlerts = (alerts: readonly OwnerAlert[], until: Date): OwnerAlert[] =>
  alerts.filter((alert) => alert.dueAt?.getTime() === until.getTime());

/**
 * The alerts after one delivery of the alert to `participant`: sent,
 * refused for good or without a webhook → settled; the webhook down → due
 * again after a capped, jittered back-off, until the last attempt, then given
 * up. An alert settled meanwhile (a concurrent round recorded it) stays as it is.
 */
export const afterAlertDelivery = (
  alerts: readonly OwnerAlert[],
  delivery: { readonly participant: string; readonly result: OwnerAlertResult },
  policy: OwnerAlertPolicy & { readonly now: Date },
): OwnerAlert[] =>
  alerts.map((alert) => {
    if (alert.participant !== delivery.participant || alert.status !== 'OWED') return alert;
    const { result } = delivery;
    if (result === 'NO_WEBHOOK')
      return { ...alert, status: 'NO_WEBHOOK', dueAt: null, settledAt: policy.now };
    const attempts = alert.attempts + 1;
    if (result === 'SENT')
      return { ...alert, attempts, status: 'SENT', dueAt: null, settledAt: policy.now };
    if (result === 'REFUSED' || attempts >= policy.maxAttempts)
      return { ...alert, attempts, status: 'GIVEN_UP', dueAt: null, settledAt: policy.now };
    return { ...alert, attempts, dueAt: retryAt(attempts, policy) };
  });

/** What an owner's webhook receives: no subject, no contact, nothing the service holds about them. */
export interface OwnerAlertMessage {
  readonly alert: 'DELETION_NEEDS_ATTENTION';
  /** `deletionRequests/{id}`. */
  readonly deletionRequest: string;
  readonly linkedService: string;
  readonly team: string;
  readonly state: 'NEEDS_ATTENTION';
  readonly reason: string | null;
  readonly traceId: string;
  /** RFC 3339: when the request needed attention. */
  readonly time: string;
}

/** The message of an owed alert. */
export const ownerAlertMessage = (id: DeletionRequestId, alert: OwnerAlert): OwnerAlertMessage => ({
  alert: 'DELETION_NEEDS_ATTENTION',
  deletionRequest: deletionRequestName(id),
  linkedService: alert.participant,
  team: alert.team,
  state: 'NEEDS_ATTENTION',
  reason: alert.reason,
  traceId: alert.traceId,
  time: alert.owedAt.toISOString(),
});

/** The key a receiver dedupes an alert's deliveries by: the same on every retry. */
export const ownerAlertKey = (id: DeletionRequestId, participant: string): string =>
  `${id}:${participant}`;
