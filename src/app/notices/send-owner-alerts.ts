import { compareAndSet } from '../common/compare-and-set.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import { concurrentUpdate } from '../../domain/domain-error.js';
import { deletionRequestName } from '../../domain/ids.js';
import {
  afterAlertDelivery,
  claimDueAlerts,
  claimedAlerts,
  ownerAlertKey,
  ownerAlertMessage,
  type OwnerAlert,
  type OwnerAlertResult,
} from '../../domain/owner-alerts.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { undeliverable } from './send-owed-notices.js';
import { attributeKeys, stepSpans } from '../../telemetry/catalogue.js';

/** The ports alerting owners uses. */
export type OwnerAlertDeps = Pick<
  DeletionDeps,
  'clock' | 'ownerAlerts' | 'participants' | 'policy' | 'requests' | 'trace'
>;

const MAX_RECORD_TRIES = 4;

/** One delivery of one alert to the webhook its service's registration names now. */
const deliverOne = async (
  deps: Pick<DeletionDeps, 'ownerAlerts' | 'participants' | 'trace'>,
  id: DeletionRequest['id'],
  alert: OwnerAlert,
): Promise<OwnerAlertResult> => {
  const spec = deps.participants.specs.find((candidate) => candidate.name === alert.participant);
  const webhook = spec?.owner?.webhook;
  if (webhook === undefined) return 'NO_WEBHOOK';
  const attributes = {
    [attributeKeys.participant]: alert.participant,
    [attributeKeys.requestId]: id,
    [attributeKeys.alertAttempt]: String(alert.attempts + 1),
  };
  try {
    await deps.trace.inSpan(stepSpans.ownerAlert, attributes, () =>
      deps.ownerAlerts.deliver({
        message: ownerAlertMessage(id, alert),
        webhook,
        key: ownerAlertKey(id, alert.participant),
      }),
    );
    return 'SENT';
  } catch (error) {
    return undeliverable(error) ? 'REFUSED' : 'RETRY';
  }
};

/**
 * Records how the deliveries went, in one write on the newest version of
 * the request (a lost race reads it again); returns the request as written.
 */
const record = (
  deps: Pick<DeletionDeps, 'clock' | 'policy' | 'requests'>,
  claimed: DeletionRequest,
  results: readonly { readonly participant: string; readonly result: OwnerAlertResult }[],
): Promise<DeletionRequest> =>
  compareAndSet<DeletionRequest, DeletionRequest>({
    start: claimed,
    tries: MAX_RECORD_TRIES,
    decide: (current) => {
      const now = deps.clock.now();
      const policy = { ...deps.policy.ownerAlerts, now };
      const ownerAlerts = results.reduce(
        (alerts, delivery) => afterAlertDelivery(alerts, delivery, policy),
        current.ownerAlerts,
      );
      const next = { ...current, ownerAlerts, version: current.version + 1, updatedAt: now };
      return { next, result: next };
    },
    save: (next, current) => deps.requests.update(next, current),
    reread: () => deps.requests.findById(claimed.id),
    gone: () => claimed,
    exhausted: () => {
      throw concurrentUpdate(
        'an owner alert could not be recorded: the request kept changing',
        claimed.id,
      );
    },
  });

/**
 * Sends the alerts a request owes the owners of its linked services that
 * are due, and records them. First it claims them (their due time moves past
 * a lease in one version-guarded write), so of several workers only one
 * sends; a worker that dies between a delivery and its record leaves the
 * claim to run out, and the alert goes again with the same
 * `Idempotency-Key`. A webhook that fails is tried again after a back-off,
 * `maxAttempts` times in all, then given up; a service with no webhook is
 * only logged. Every alert that settles is logged. False when nothing was
 * due or another worker claimed it.
 */
export const sendOwnerAlerts = async (
  deps: OwnerAlertDeps,
  request: DeletionRequest,
): Promise<boolean> => {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + deps.policy.leaseMs);
  const ownerAlerts = claimDueAlerts(request.ownerAlerts, now, until);
  if (ownerAlerts === request.ownerAlerts) return false;
  const claimed: DeletionRequest = { ...request, ownerAlerts, version: request.version + 1 };
  if (!(await deps.requests.update({ ...claimed, updatedAt: now }, request))) return false;
  const due = claimedAlerts(ownerAlerts, until);
  const results = await Promise.all(
    due.map(async (alert) => ({
      participant: alert.participant,
      result: await deliverOne(deps, request.id, alert),
    })),
  );
  const written = await record(deps, { ...claimed, updatedAt: now }, results);
  for (const alert of written.ownerAlerts) {
    const was = due.find((candidate) => candidate.participant === alert.participant);
    if (was === undefined || alert.status === 'OWED') continue;
    deps.ownerAlerts.settled({
      deletionRequest: deletionRequestName(request.id),
      linkedService: alert.participant,
      team: alert.team,
      status: alert.status,
      attempts: alert.attempts,
    });
  }
  return true;
};
