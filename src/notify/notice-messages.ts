import { deletionRequestName } from '../domain/ids.js';
import { DomainError } from '../domain/domain-error.js';
import type { DeletionRequestId } from '../domain/ids.js';
import type { SubjectNotice } from '../domain/subject-notice.js';

/**
 * A notice rendered for every channel: an e-mail's subject, plain text and
 * HTML; the short text of an SMS or a push message. Only what the subject
 * needs: the request, its dates, a code or a link; never who they are.
 */
export interface RenderedNotice {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly short: string;
}

/** The languages notices are written in; any other locale gets English. */
export type NoticeLanguage = 'en' | 'de';

export const noticeLanguage = (locale: string | null): NoticeLanguage =>
  locale?.toLowerCase().startsWith('de') ? 'de' : 'en';

/** One notice's words in one language: paragraphs of plain text, and the short form. */
interface Wording {
  readonly subject: string;
  readonly paragraphs: readonly string[];
  readonly short: string;
}

/** Formats the values a template interpolates, in the notice's language. */
interface Formats {
  readonly date: (at: Date) => string;
  readonly minutesUntil: (at: Date) => number;
}

const english = (notice: SubjectNotice, format: Formats): Wording => {
  const ref = notice.deletionRequestId;
  switch (notice.kind) {
    case 'RECEIPT':
      return {
        subject: 'We received your request to delete your account',
        paragraphs: [
          `We received a request to delete your account (request ${ref}).`,
          `Nothing is deleted until the request is confirmed. Once it is, we will finish by ${format.date(notice.deadline)} at the latest.`,
          'If you did not ask for this, you do not need to do anything.',
        ],
        short: `We received a request to delete your account (${ref}). Nothing is deleted until it is confirmed.`,
      };
    case 'CONFIRMATION_CODE': {
      const minutes = format.minutesUntil(notice.expiresAt);
      return {
        subject: 'Confirm the deletion of your account',
        paragraphs: [
          'Someone asked to delete your account. If it was you, confirm with this code:',
          notice.code,
          `The code is valid for ${String(minutes)} minutes. If it was not you, ignore this message: nothing will be deleted.`,
          `Reference: ${deletionRequestName(notice.deletionRequestId)}`,
        ],
        short: `Your code to confirm the deletion of your account: ${notice.code} (valid ${String(minutes)} min). Not you? Ignore this.`,
      };
    }
    case 'SCHEDULED':
      return {
        subject: 'Your account will be deleted',
        paragraphs: [
          `Your account is deactivated and you have been signed out everywhere. It will be deleted for good on ${format.date(notice.purgeAt)} (request ${ref}).`,
          `Changed your mind? Until then you can undo it: ask our support team to restore your account, quoting request ${ref}.`,
        ],
        short: `Your account will be deleted on ${format.date(notice.purgeAt)}. To undo it, contact support before then quoting ${ref}.`,
      };
    case 'AWAITING_APPROVAL':
      return {
        subject: 'Your deletion request is being reviewed',
        paragraphs: [
          `Your request to delete your account (request ${ref}) is confirmed. For some accounts a second person reviews a deletion before it goes ahead; yours is waiting for that review.`,
          'Nothing is deleted yet. We will tell you when it is decided.',
        ],
        short: `Your deletion request ${ref} is waiting for a review. Nothing is deleted yet; we will tell you the outcome.`,
      };
    case 'REJECTED':
      return {
        subject: 'Your account was not deleted',
        paragraphs: [
          `After review, your request to delete your account (request ${ref}) was not approved. Your account stays as it is.`,
          `Our support team can tell you why and what you can do; quote request ${ref}.`,
        ],
        short: `Your deletion request ${ref} was not approved after review; your account stays. Contact support for details.`,
      };
    case 'RESTORED':
      return {
        subject: 'Your account is restored',
        paragraphs: [
          `The deletion of your account was undone (request ${ref}). Your account is active again.`,
          'You were signed out when the deletion was confirmed: sign in again to continue.',
        ],
        short: `The deletion of your account was undone (${ref}); it is active again. Sign in to continue.`,
      };
    case 'DEADLINE_EXTENDED':
      return {
        subject: 'We need more time to delete your account',
        paragraphs: [
          `We need more time to complete the deletion of your account (request ${ref}). We will finish by ${format.date(notice.deadline)} at the latest.`,
          `The reason: ${notice.reason}`,
        ],
        short: `We need more time to delete your account (${ref}): done by ${format.date(notice.deadline)} at the latest.`,
      };
    case 'COMPLETED':
      return {
        subject: 'Your account has been deleted',
        paragraphs: [
          `Your account and the data our services held about you have been erased, as you asked (request ${ref}, completed ${format.date(notice.completedAt)}).`,
          ...(notice.report === null
            ? []
            : [
                'The signed erasure report is attached (erasure-report.json): it states what each of our services erased, and what the law requires us to keep (for example invoices) and why. Its signature can be checked with our published keys.',
              ]),
          notice.reportUrl === null
            ? notice.report === null
              ? 'Where the law requires us to keep some records (for example invoices), the erasure report names them and the reason; quote the request to our support team to receive it.'
              : 'Keep it: our copy of your data is gone, and the report is the evidence.'
            : `Where the law requires us to keep some records (for example invoices), the erasure report names them and the reason: ${notice.reportUrl}`,
          'This is the last message you will receive from us: your address is deleted with it.',
        ],
        short:
          notice.reportUrl === null
            ? `Your account has been deleted (${ref}). This is our last message to you.`
            : `Your account has been deleted (${ref}). Your erasure report: ${notice.reportUrl}`,
      };
  }
};

const german = (notice: SubjectNotice, format: Formats): Wording => {
  const ref = notice.deletionRequestId;
  switch (notice.kind) {
    case 'RECEIPT':
      return {
        subject: 'Wir haben Ihren Antrag auf Löschung Ihres Kontos erhalten',
        paragraphs: [
          `Wir haben einen Antrag auf Löschung Ihres Kontos erhalten (Antrag ${ref}).`,
          `Es wird nichts gelöscht, bevor der Antrag bestätigt ist. Danach sind wir spätestens am ${format.date(notice.deadline)} fertig.`,
          'Wenn Sie das nicht beantragt haben, müssen Sie nichts tun.',
        ],
        short: `Wir haben einen Antrag auf Löschung Ihres Kontos erhalten (${ref}). Ohne Bestätigung wird nichts gelöscht.`,
      };
    case 'CONFIRMATION_CODE': {
      const minutes = format.minutesUntil(notice.expiresAt);
      return {
        subject: 'Bestätigen Sie die Löschung Ihres Kontos',
        paragraphs: [
          'Jemand hat die Löschung Ihres Kontos beantragt. Wenn Sie es waren, bestätigen Sie mit diesem Code:',
          notice.code,
          `Der Code ist ${String(minutes)} Minuten gültig. Wenn Sie es nicht waren, ignorieren Sie diese Nachricht: es wird nichts gelöscht.`,
          `Referenz: ${deletionRequestName(notice.deletionRequestId)}`,
        ],
        short: `Ihr Code zur Bestätigung der Kontolöschung: ${notice.code} (${String(minutes)} Min. gültig). Nicht Sie? Ignorieren.`,
      };
    }
    case 'SCHEDULED':
      return {
        subject: 'Ihr Konto wird gelöscht',
        paragraphs: [
          `Ihr Konto ist deaktiviert und Sie wurden überall abgemeldet. Am ${format.date(notice.purgeAt)} wird es endgültig gelöscht (Antrag ${ref}).`,
          `Haben Sie es sich anders überlegt? Bis dahin können Sie es rückgängig machen: Bitten Sie unseren Support unter Angabe des Antrags ${ref}, Ihr Konto wiederherzustellen.`,
        ],
        short: `Ihr Konto wird am ${format.date(notice.purgeAt)} gelöscht. Rückgängig machen: vorher den Support mit ${ref} kontaktieren.`,
      };
    case 'AWAITING_APPROVAL':
      return {
        subject: 'Ihr Löschantrag wird geprüft',
        paragraphs: [
          `Ihr Antrag auf Löschung Ihres Kontos (Antrag ${ref}) ist bestätigt. Bei manchen Konten prüft eine zweite Person die Löschung, bevor sie erfolgt; Ihr Antrag wartet auf diese Prüfung.`,
          'Noch wird nichts gelöscht. Wir teilen Ihnen die Entscheidung mit.',
        ],
        short: `Ihr Löschantrag ${ref} wird geprüft. Noch wird nichts gelöscht; wir teilen Ihnen das Ergebnis mit.`,
      };
    case 'REJECTED':
      return {
        subject: 'Ihr Konto wurde nicht gelöscht',
        paragraphs: [
          `Nach Prüfung wurde Ihr Antrag auf Löschung Ihres Kontos (Antrag ${ref}) nicht genehmigt. Ihr Konto bleibt, wie es ist.`,
          `Unser Support erklärt Ihnen die Gründe und Ihre Möglichkeiten; nennen Sie dazu den Antrag ${ref}.`,
        ],
        short: `Ihr Löschantrag ${ref} wurde nach Prüfung nicht genehmigt; Ihr Konto bleibt. Details beim Support.`,
      };
    case 'RESTORED':
      return {
        subject: 'Ihr Konto ist wiederhergestellt',
        paragraphs: [
          `Die Löschung Ihres Kontos wurde rückgängig gemacht (Antrag ${ref}). Ihr Konto ist wieder aktiv.`,
          'Mit der Bestätigung der Löschung wurden Sie abgemeldet: Melden Sie sich erneut an.',
        ],
        short: `Die Löschung Ihres Kontos wurde rückgängig gemacht (${ref}); es ist wieder aktiv. Bitte neu anmelden.`,
      };
    case 'DEADLINE_EXTENDED':
      return {
        subject: 'Wir benötigen mehr Zeit für die Löschung Ihres Kontos',
        paragraphs: [
          `Wir benötigen mehr Zeit, um die Löschung Ihres Kontos abzuschließen (Antrag ${ref}). Wir sind spätestens am ${format.date(notice.deadline)} fertig.`,
          `Der Grund: ${notice.reason}`,
        ],
        short: `Wir benötigen mehr Zeit für die Löschung Ihres Kontos (${ref}): spätestens am ${format.date(notice.deadline)} erledigt.`,
      };
    case 'COMPLETED':
      return {
        subject: 'Ihr Konto wurde gelöscht',
        paragraphs: [
          `Ihr Konto und die Daten, die unsere Dienste über Sie gespeichert hatten, wurden wie gewünscht gelöscht (Antrag ${ref}, abgeschlossen am ${format.date(notice.completedAt)}).`,
          ...(notice.report === null
            ? []
            : [
                'Der signierte Löschbericht ist angehängt (erasure-report.json): Er nennt, was jeder unserer Dienste gelöscht hat und was wir aufbewahren müssen (etwa Rechnungen) und warum. Seine Signatur lässt sich mit unseren veröffentlichten Schlüsseln prüfen.',
              ]),
          notice.reportUrl === null
            ? notice.report === null
              ? 'Wo das Gesetz verlangt, dass wir Unterlagen aufbewahren (etwa Rechnungen), nennt der Löschbericht sie und den Grund; nennen Sie unserem Support den Antrag, um ihn zu erhalten.'
              : 'Bewahren Sie ihn auf: Unsere Kopie Ihrer Daten ist gelöscht, der Bericht ist der Nachweis.'
            : `Wo das Gesetz verlangt, dass wir Unterlagen aufbewahren (etwa Rechnungen), nennt der Löschbericht sie und den Grund: ${notice.reportUrl}`,
          'Dies ist die letzte Nachricht von uns: Ihre Adresse wird mit ihr gelöscht.',
        ],
        short:
          notice.reportUrl === null
            ? `Ihr Konto wurde gelöscht (${ref}). Dies ist unsere letzte Nachricht an Sie.`
            : `Ihr Konto wurde gelöscht (${ref}). Ihr Löschbericht: ${notice.reportUrl}`,
      };
  }
};

const wordings = { en: english, de: german } as const;
const dateLocales = { en: 'en-GB', de: 'de-DE' } as const;

const escapeHtml = (text: string): string =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

/** The HTML body: each paragraph escaped; the report link, when there is one, made a link. */
const toHtml = (notice: SubjectNotice, language: NoticeLanguage, wording: Wording): string => {
  const link = notice.kind === 'COMPLETED' ? notice.reportUrl : null;
  const paragraph = (text: string) => {
    const escaped = escapeHtml(text);
    if (link === null) return `<p>${escaped}</p>`;
    const href = escapeHtml(link);
    return `<p>${escaped.replace(href, () => `<a href="${href}">${href}</a>`)}</p>`;
  };
  const code = notice.kind === 'CONFIRMATION_CODE' ? notice.code : null;
  const body = wording.paragraphs
    .map((text) =>
      text === code
        ? `<p style="font-size:1.5em;letter-spacing:0.2em"><strong>${escapeHtml(text)}</strong></p>`
        : paragraph(text),
    )
    .join('\n');
  return `<!doctype html>\n<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(wording.subject)}</title></head>\n<body>\n${body}\n</body></html>`;
};

/** Renders a notice in the account's language (English unless the locale is German). */
export const renderNotice = (
  notice: SubjectNotice,
  locale: string | null,
  now: Date,
): RenderedNotice => {
  const language = noticeLanguage(locale);
  const dates = new Intl.DateTimeFormat(dateLocales[language], {
    dateStyle: 'long',
    timeZone: 'UTC',
  });
  const wording = wordings[language](notice, {
    date: (at) => dates.format(at),
    minutesUntil: (at) => Math.max(1, Math.round((at.getTime() - now.getTime()) / 60_000)),
  });
  const indented = notice.kind === 'CONFIRMATION_CODE' ? notice.code : null;
  return {
    subject: wording.subject,
    text: wording.paragraphs.map((text) => (text === indented ? `    ${text}` : text)).join('\n\n'),
    html: toHtml(notice, language, wording),
    short: wording.short,
  };
};

/** A notice that has nowhere to go on this channel: not worth trying again. */
export const noContactAddress = (deletionRequestId: DeletionRequestId): DomainError =>
  new DomainError({
    code: 'FAILED_PRECONDITION',
    reason: 'NO_CONTACT_ADDRESS',
    message: 'the account has no contact address to send the notice to',
    metadata: { deletionRequest: deletionRequestId },
  });
