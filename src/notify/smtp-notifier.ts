import nodemailer from 'nodemailer';
import type { Notifier } from '../app/ports.js';
import { DomainError } from '../domain/domain-error.js';
import type { DeletionRequestId } from '../domain/ids.js';
import { withSpan } from '../telemetry/with-span.js';
import {
  renderConfirmationCode,
  noContactAddress,
  renderErasureCompleted,
  type RenderedMessage,
} from './notice-messages.js';
import { attributeKeys, stepSpans } from '../app/telemetry-catalogue.js';

/** SMTP settings: a `smtp://` or `smtps://` URL and the sender address. */
export interface SmtpOptions {
  readonly url: string;
  readonly from: string;
  readonly now?: () => Date;
  /** How long to wait to connect and for the greeting (default 10 s), and for any later reply (30 s). */
  readonly timeoutsMs?: { readonly connect: number; readonly reply: number };
}

/** Sends notices by e-mail through an SMTP server (nodemailer). Failures: UNAVAILABLE. */
export const createSmtpNotifier = (options: SmtpOptions): Notifier & { close(): void } => {
  // Every step of a send is bounded: a mail server that hangs is a mail server that is down.
  const timeouts = options.timeoutsMs ?? { connect: 10_000, reply: 30_000 };
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: timeouts.connect,
    greetingTimeout: timeouts.connect,
    socketTimeout: timeouts.reply,
  });
  const now = options.now ?? (() => new Date());
  const send = (
    span: string,
    notice: {
      readonly deletionRequestId: DeletionRequestId;
      readonly to: { email: string | null };
    },
    render: () => RenderedMessage,
  ): Promise<void> =>
    withSpan(
      span,
      { [attributeKeys.requestId]: notice.deletionRequestId, [attributeKeys.channel]: 'email' },
      async () => {
        if (notice.to.email === null) {
          throw noContactAddress(notice.deletionRequestId, 'e-mail address');
        }
        const message = render();
        try {
          await transport.sendMail({
            from: options.from,
            to: notice.to.email,
            subject: message.subject,
            text: message.text,
          });
        } catch (error) {
          const reply = (error as { responseCode?: number }).responseCode ?? 0;
          if (reply >= 500 && reply < 600) {
            // A permanent refusal (e.g. no such mailbox): trying again cannot help.
            throw new DomainError({
              code: 'FAILED_PRECONDITION',
              reason: 'ADDRESS_REJECTED',
              message: 'the mail server refused the address for good',
              metadata: { deletionRequest: notice.deletionRequestId },
              cause: error,
            });
          }
          throw new DomainError({
            code: 'UNAVAILABLE',
            reason: 'NOTIFIER_UNAVAILABLE',
            message: 'the mail server did not accept the message',
            metadata: { deletionRequest: notice.deletionRequestId },
            cause: error,
          });
        }
      },
    );
  return {
    sendConfirmationCode: (notice) =>
      send(stepSpans.noticeConfirmationCode, notice, () => renderConfirmationCode(notice, now())),
    sendErasureCompleted: (notice) =>
      send(stepSpans.noticeErasureCompleted, notice, () => renderErasureCompleted(notice)),
    close: () => transport.close(),
  };
};
