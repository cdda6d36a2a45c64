import type {
  OwnerAlertDelivery,
  OwnerAlerts,
  SettledOwnerAlert,
} from '../../../src/app/ports/owner-alerts.js';
import { DomainError } from '../../../src/domain/domain-error.js';

/** Owner alerts kept in memory: what was delivered, what settled, and failures on demand. */
export interface FakeOwnerAlerts extends OwnerAlerts {
  /** Every delivery tried, oldest first (failed ones too). */
  readonly tried: readonly OwnerAlertDelivery[];
  /** Deliveries that went through. */
  readonly delivered: readonly OwnerAlertDelivery[];
  /** How alerts settled (what the real one logs). */
  readonly settledAlerts: readonly SettledOwnerAlert[];
  /** While down, every delivery throws UNAVAILABLE (try again later). */
  setDown(down: boolean): void;
  /** While refusing, every delivery throws FAILED_PRECONDITION (refused for good). */
  setRefusing(refusing: boolean): void;
}

export const fakeOwnerAlerts = (): FakeOwnerAlerts => {
  const tried: OwnerAlertDelivery[] = [];
  const delivered: OwnerAlertDelivery[] = [];
  const settledAlerts: SettledOwnerAlert[] = [];
  let down = false;
  let refusing = false;
  return {
    tried,
    delivered,
    settledAlerts,
    setDown: (value) => {
      down = value;
    },
    setRefusing: (value) => {
      refusing = value;
    },
    deliver: (delivery) => {
      tried.push(delivery);
      if (down || refusing)
        return Promise.reject(
          new DomainError({
            code: down ? 'UNAVAILABLE' : 'FAILED_PRECONDITION',
            reason: down ? 'NOTIFIER_UNAVAILABLE' : 'ADDRESS_REJECTED',
            message: 'the owner webhook did not take the alert',
          }),
        );
      delivered.push(delivery);
      return Promise.resolve();
    },
    settled: (alert) => {
      settledAlerts.push(alert);
    },
  };
};
