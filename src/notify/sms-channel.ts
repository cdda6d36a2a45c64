import { deliverOverHttp, type HttpProviderOptions } from './http-provider.js';
import type { Channel } from './notifier.js';

/** A Twilio-style SMS provider: its API's base URL, the account, its token, and our sender number. */
export interface SmsOptions extends HttpProviderOptions {
  /** E.g. https://api.twilio.com; messages are POSTed to `<url>/2010-04-01/Accounts/<account>/Messages.json`. */
  readonly url: string;
  readonly account: string;
  readonly token: string;
  readonly from: string;
}

/**
 * The SMS channel: the notice's short text, POSTed form-encoded with basic
 * auth to the provider's Messages resource, with the event's key as
 * `Idempotency-Key` (a provider that honours it sends a repeat once).
 * Returns the provider's message id (`sid`).
 */
export const createSmsChannel = (options: SmsOptions): Channel => {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const endpoint = new URL(
    `2010-04-01/Accounts/${encodeURIComponent(options.account)}/Messages.json`,
    base,
  );
  const authorization = `Basic ${Buffer.from(`${options.account}:${options.token}`).toString('base64')}`;
  return {
    name: 'sms',
    address: (to) => to.phone,
    deliver: async (message) => {
      const answer = await deliverOverHttp(
        { ...options, what: 'SMS provider' },
        message.delivery.notice,
        (signal) =>
          fetch(endpoint, {
            method: 'POST',
            headers: {
              authorization,
              'content-type': 'application/x-www-form-urlencoded',
              'idempotency-key': message.delivery.key,
            },
            body: new URLSearchParams({
              To: message.address,
              From: options.from,
              Body: message.rendered.short,
            }),
            redirect: 'error',
            signal,
          }),
      );
      return typeof answer.sid === 'string' ? answer.sid : null;
    },
  };
};
