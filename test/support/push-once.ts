/**
 * Sends one push notice to PUSH_URL with PUSH_SECRET and prints the outcome
 * as JSON: a process of its own, so that a test can start it with
 * NODE_EXTRA_CA_CERTS (Node reads it only at start-up) as an operator would.
 */
import { DomainError } from '../../src/domain/domain-error.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { createNotifier } from '../../src/notify/notifier.js';
import { createPushChannel } from '../../src/notify/push-channel.js';

const notifier = createNotifier({
  push: createPushChannel({
    url: process.env.PUSH_URL ?? '',
    secret: process.env.PUSH_SECRET ?? '',
    attempts: 1,
  }),
});
notifier
  .send({
    notice: { kind: 'RESTORED', deletionRequestId: 'req-9' as DeletionRequestId },
    to: {
      email: null,
      phone: null,
      pushToken: 'device-token-9',
      preferredChannel: 'push',
      locale: 'en',
    },
    key: 'req-9/RESTORED@2',
  })
  .then(
    (receipt) => {
      process.stdout.write(JSON.stringify({ receipt }));
    },
    (error: unknown) => {
      const { code, reason } = DomainError.from(error);
      process.stdout.write(JSON.stringify({ error: { code, reason } }));
    },
  );
