import type { ConfirmationCodeNotice, ErasureCompletedNotice } from '../app/ports.js';
import { DomainError } from '../domain/domain-error.js';
import type { DeletionRequestId } from '../domain/ids.js';

/** A rendered notice: only what the subject needs, nothing else about them. */
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

const languageOf = (locale: string | null): 'en' | 'de' =>
  locale?.toLowerCase().startsWith('de') ? 'de' : 'en';

/** Renders the confirmation-code notice in the account's language (English by default). */
export const renderConfirmationCode = (
  notice: ConfirmationCodeNotice,
  now: Date,
): RenderedMessage => {
  const language = languageOf(notice.locale);
  const minutes = Math.max(1, Math.round((notice.expiresAt.getTime() - now.getTime()) / 60_000));
  return { subject: texts[language].subject, text: texts[language].body(notice.code, minutes) };
};

const completedTexts = {
  en: {
    subject: 'Your account has been deleted',
    body: (request: string, date: string) =>
      `Your account and the data our services held about you have been erased, as you asked ` +
      `(request ${request}, completed ${date}).\n\n` +
      `Where the law requires us to keep some records (for example invoices), the erasure report ` +
      `names them and the reason; quote the request to our support team to receive it.\n\n` +
      `This is the last message you will receive from us: your address is deleted with it.`,
  },
  de: {
    subject: 'Ihr Konto wurde gelöscht',
    body: (request: string, date: string) =>
      `Ihr Konto und die Daten, die unsere Dienste über Sie gespeichert hatten, wurden wie ` +
      `gewünscht gelöscht (Antrag ${request}, abgeschlossen am ${date}).\n\n` +
      `Wo das Gesetz verlangt, dass wir Unterlagen aufbewahren (etwa Rechnungen), nennt der ` +
      `Löschbericht sie und den Grund; nennen Sie unserem Support den Antrag, um ihn zu erhalten.\n\n` +
      `Dies ist die letzte Nachricht von uns: Ihre Adresse wird mit ihr gelöscht.`,
  },
} as const;

/** Renders the notice that the erasure is complete: the request and the date, nothing else. */
export const renderErasureCompleted = (notice: ErasureCompletedNotice): RenderedMessage => {
  const language = languageOf(notice.locale);
  const date = notice.completedAt.toISOString().slice(0, 10);
  return {
    subject: completedTexts[language].subject,
    text: completedTexts[language].body(notice.deletionRequestId, date),
  };
};

/** A notice that has nowhere to go on this channel: not worth trying again. */
export const noContactAddress = (
  deletionRequestId: DeletionRequestId,
  what: 'e-mail address' | 'contact address',
): DomainError =>
  new DomainError({
    code: 'FAILED_PRECONDITION',
    reason: 'NO_CONTACT_ADDRESS',
    message: `the account has no ${what} to send the notice to`,
    metadata: { deletionRequest: deletionRequestId },
  });
