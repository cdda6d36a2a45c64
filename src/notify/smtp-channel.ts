import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { DomainError } from '../domain/domain-error.js';
import { deletionRequestName } from '../domain/ids.js';
import type { SubjectNotice } from '../domain/subject-notice.js';
import type { Channel } from './notifier.js';

/** SMTP settings: a `smtp://` or `smtps://` URL and the sender address. */
export interface SmtpOptions {
  readonly url: string;
  readonly from: string;
  /** How long to wait to connect and for the greeting (default 10 s), and for any later reply (30 s). */
  readonly timeoutsMs?: { readonly connect: number; readonly reply: number };
}

/**
 * The e-mail channel: plain text and HTML through an SMTP server
 * (nodemailer). A 5xx reply (e.g. no such mailbox) is FAILED_PRECONDITION;
 * anything else that fails is UNAVAILABLE. The Message-ID is derived from the
 * event key, so a notice sent again (a worker died between the send and its
 * record) carries the same one, and a mail system that drops duplicates by
 * it delivers it once. Returns the Message-ID.
 */
/** The Message-ID of an event's mail: `<hash of the key@sender's domain>`. */
export const messageIdOf = (key: string, from: string): string => {
  const found = /@([^@<>\s]+)>?\s*$/.exec(from)?.[1] ?? '';
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  const domain = found.split('.').every((part) => label.test(part))
    ? found
    : 'account-deletion.invalid';
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}@${domain}>`;
};

/** The file a completion notice's e-mail carries: the signed report, as GetErasureReport answers it. */
export const REPORT_ATTACHMENT = 'erasure-report.json';

/** The signed report as an attachment of the completion notice; none for other notices. */
const reportAttachment = (notice: SubjectNotice) =>
  notice.kind === 'COMPLETED' && notice.report !== null
    ? [
        {
          filename: REPORT_ATTACHMENT,
          contentType: 'application/json',
          content: `${JSON.stringify(
            { name: deletionRequestName(notice.deletionRequestId), ...notice.report },
            null,
            2,
          )}\n`,
        },
      ]
    : [];

export const createSmtpChannel = (options: SmtpOptions): Channel & { close(): void } => {
  // Every step of a send is bounded: a mail server that hangs is a mail server that is down.
  const timeouts = options.timeoutsMs ?? { connect: 10_000, reply: 30_000 };
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: timeouts.connect,
    greetingTimeout: timeouts.connect,
    socketTimeout: timeouts.reply,
  });
  return {
    name: 'email',
    address: (to) => to.email,
    deliver: async ({ address, rendered, delivery }) => {
      const deletionRequest = delivery.notice.deletionRequestId;
      try {
        const info = (await transport.sendMail({
          from: options.from,
          to: address,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId: messageIdOf(delivery.key, options.from),
          attachments: reportAttachment(delivery.notice),
        })) as { messageId?: string };
        return info.messageId ?? null;
      } catch (error) {
        const reply = (error as { responseCode?: number }).responseCode ?? 0;
        if (reply >= 500 && reply < 600) {
          // A permanent refusal (e.g. no such mailbox): trying again cannot help.
          throw new DomainError({
            code: 'FAILED_PRECONDITION',
            reason: 'ADDRESS_REJECTED',
            message: 'the mail server refused the address for good',
            metadata: { deletionRequest },
            cause: error,
          });
        }
        throw new DomainError({
          code: 'UNAVAILABLE',
          reason: 'NOTIFIER_UNAVAILABLE',
          message: 'the mail server did not accept the message',
          metadata: { deletionRequest },
          cause: error,
        });
      }
    },
    close: () => transport.close(),
  };
};
