import nodemailer from 'nodemailer';
import type { Notifier } from '../app/ports.js';
import { DomainError } from '../domain/domain-error.js';
import { withSpan } from '../telemetry/with-span.js';
import { renderConfirmationCode } from './confirmation-code-message.js';

/** SMTP settings: a `smtp://` or `smtps://` URL and the sender address. */
export interface SmtpOptions {
  readonly url: string;
  readonly from: string;
  readonly now?: () => Date;
}

const noAddress = (id: string): DomainError =>
  new DomainError({
    code: 'FAILED_PRECONDITION',
    reason: 'NO_CONTACT_ADDRESS',
    message: 'the account has no e-mail address to send the code to',
    metadata: { deletionRequest: id },
  });

/** Sends notices by e-mail through an SMTP server (nodemailer). Failures: UNAVAILABLE. */
export const createSmtpNotifier = (options: SmtpOptions): Notifier & { close(): void } => {
  const transport = nodemailer.createTransport(options.url);
  const now = options.now ?? (() => new Date());
  return {
    sendConfirmationCode: (notice) =>
      withSpan(
        'notify.confirmation_code',
        { 'deletion.request_id': notice.deletionRequestId, 'notify.channel': 'email' },
        async () => {
          if (notice.to.email === null) throw noAddress(notice.deletionRequestId);
          const message = renderConfirmationCode(notice, now());
          try {
            await transport.sendMail({
              from: options.from,
              to: notice.to.email,
              subject: message.subject,
              text: message.text,
            });
          } catch (error) {
            throw new DomainError({
              code: 'UNAVAILABLE',
              reason: 'NOTIFIER_UNAVAILABLE',
              message: 'the mail server did not accept the message',
              metadata: { deletionRequest: notice.deletionRequestId },
              cause: error,
            });
          }
        },
      ),
    close: () => transport.close(),
  };
};
