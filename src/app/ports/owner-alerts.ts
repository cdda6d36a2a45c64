import type { OwnerAlertMessage, OwnerAlertStatus } from '../../domain/owner-alerts.js';

/** One alert on its way to the webhook of a linked service's owning team. */
export interface OwnerAlertDelivery {
  readonly message: OwnerAlertMessage;
  /** The webhook, from the service's registration (configuration only, never an API). */
  readonly webhook: string;
  /** `<request id>:<service>`, sent as `Idempotency-Key`: the same on every retry. */
  readonly key: string;
}

/** How an alert settled, for the log: names, codes and counts only. */
export interface SettledOwnerAlert {
  readonly deletionRequest: string;
  readonly linkedService: string;
  readonly team: string;
  readonly status: Exclude<OwnerAlertStatus, 'OWED'>;
  readonly attempts: number;
}

/**
 * Alerts the owners of linked services. `deliver` makes one bounded call:
 * it throws UNAVAILABLE (or DEADLINE_EXCEEDED) when the webhook is down or
 * failing (try again later), FAILED_PRECONDITION when it refused the alert
 * for good. `settled` logs how an alert ended (sent, given up, no webhook).
 */
export interface OwnerAlerts {
  deliver(delivery: OwnerAlertDelivery): Promise<void>;
  settled(alert: SettledOwnerAlert): void;
}
