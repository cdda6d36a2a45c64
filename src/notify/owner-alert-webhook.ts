import type { Logger } from 'pino';
import type { OwnerAlerts } from '../app/ports/owner-alerts.js';
import { ownerAlertSecret } from '../crypto/owner-alert-keys.js';
import { DomainError } from '../domain/domain-error.js';
import { parseDeletionRequestName } from '../domain/ids.js';
import { deliverOverHttp } from './http-provider.js';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature.js';

/** How alerts reach owners' webhooks. */
export interface OwnerAlertWebhookOptions {
  /** Key material each service's signing secret is derived from (AUDIT_KEY). */
  readonly keyMaterial: string;
  /** Bound of one call. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** The time the signature carries (tests fix it). */
  readonly now?: () => Date;
}

/**
 * Owner alerts over HTTP: one JSON POST of the alert per delivery, with
 * `Idempotency-Key: <request id>:<service>` and the body signed in
 * `x-deletion-signature` under the service's own secret
 * (`ownerAlertSecret`). No redirect is followed. A 400, 410 or 422 refuses
 * the alert for good (FAILED_PRECONDITION); anything else that is not 2xx
 * (network, timeout, 5xx, 429) is UNAVAILABLE. Every delivery and every
 * settled alert is logged: names and codes, no personal data.
 */
export const createOwnerAlertWebhook = (options: OwnerAlertWebhookOptions): OwnerAlerts => ({
  deliver: async ({ message, webhook, key }) => {
    const body = JSON.stringify(message);
    const secret = ownerAlertSecret(options.keyMaterial, message.linkedService);
    const fields = {
      alert: 'OWNER_ALERT',
      deletionRequest: message.deletionRequest,
      linkedService: message.linkedService,
      team: message.team,
    };
    const about = { deletionRequestId: parseDeletionRequestName(message.deletionRequest) ?? '' };
    try {
      await deliverOverHttp(
        { what: 'owner webhook', attempts: 1, timeoutMs: options.timeoutMs },
        about,
        (signal) =>
          fetch(webhook, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'idempotency-key': key,
              [WEBHOOK_SIGNATURE_HEADER]: signWebhookBody(
                secret,
                body,
                options.now?.() ?? new Date(),
              ),
            },
            body,
            redirect: 'error',
            signal,
          }),
      );
      options.logger.info(fields, 'owner alert delivered');
    } catch (error) {
      const { code, metadata } = DomainError.from(error);
      options.logger.warn(
        { ...fields, code, status: metadata.status },
        'owner alert not delivered',
      );
      throw error;
    }
  },
  settled: (alert) => {
    const fields = { alert: `OWNER_ALERT_${alert.status}`, ...alert };
    if (alert.status === 'SENT') options.logger.info(fields, 'owner alert sent');
    else if (alert.status === 'NO_WEBHOOK')
      options.logger.warn(fields, 'linked service needs attention; its owner has no webhook');
    else options.logger.error(fields, 'owner alert given up: the owner was not told');
  },
});
