import type { ConfirmationCodeNotice } from '../app/ports.js';

/** A rendered notice: only what the subject needs (the code and its expiry), nothing else. */
export interface RenderedMessage {
  readonly subject: string;
  readonly text: string;
}

const texts = {
  en: {
    subject: 'Confirm the deletion of your account',
    body: (code: string, minutes: number) =>
      `Someone asked to delete your account. If it was you, confirm with this code:\n\n    ${code}\n\n` +
      `The code is valid for ${minutes} minutes. If it was not you, ignore this message: nothing will be deleted.`,
  },
  de: {
    subject: 'Bestätigen Sie die Löschung Ihres Kontos',
    body: (code: string, minutes: number) =>
      `Jemand hat die Löschung Ihres Kontos beantragt. Wenn Sie es waren, bestätigen Sie mit diesem Code:\n\n    ${code}\n\n` +
      `Der Code ist ${minutes} Minuten gültig. Wenn Sie es nicht waren, ignorieren Sie diese Nachricht: es wird nichts gelöscht.`,
  },
} as const;

/** Renders the confirmation-code notice in the account's language (English by default). */
export const renderConfirmationCode = (
  notice: ConfirmationCodeNotice,
  now: Date,
): RenderedMessage => {
  const language = notice.locale?.toLowerCase().startsWith('de') ? 'de' : 'en';
  const minutes = Math.max(1, Math.round((notice.expiresAt.getTime() - now.getTime()) / 60_000));
  return { subject: texts[language].subject, text: texts[language].body(notice.code, minutes) };
};
