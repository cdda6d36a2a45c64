/** The legal regimes that set a deadline for erasure. */
export type Jurisdiction = 'GDPR' | 'CCPA';

/** Every jurisdiction the service knows. */
export const jurisdictions = ['GDPR', 'CCPA'] as const satisfies readonly Jurisdiction[];

/** Whether a string names a known jurisdiction. */
export const isJurisdiction = (value: string): value is Jurisdiction =>
  jurisdictions.some((known) => known === value);

/** A length of time as the law counts it: calendar months, or days. */
export type LegalPeriod = { readonly months: number } | { readonly days: number };

/** One jurisdiction's clock: the time to answer, and the one extension it allows. */
export interface LegalClock {
  readonly deadline: LegalPeriod;
  readonly extension: LegalPeriod;
}

/**
 * The defaults: GDPR Art. 12(3) one month, extendable once by two more;
 * CCPA §1798.130(a)(2) 45 days, extendable once by 45 more.
 */
export const defaultLegalClocks: Readonly<Record<Jurisdiction, LegalClock>> = {
  GDPR: { deadline: { months: 1 }, extension: { months: 2 } },
  CCPA: { deadline: { days: 45 }, extension: { days: 45 } },
};

const DAY_MS = 86_400_000;

/**
 * `from` plus `period`. Calendar months keep the day of the month, clamped to
 * the last day of a shorter month (31 January + 1 month = 28 or 29 February).
 */
export const addLegalPeriod = (from: Date, period: LegalPeriod): Date => {
  if ('days' in period) return new Date(from.getTime() + period.days * DAY_MS);
  const target = from.getUTCMonth() + period.months;
  const lastDay = new Date(Date.UTC(from.getUTCFullYear(), target + 1, 0)).getUTCDate();
  const moved = new Date(from.getTime());
  moved.setUTCDate(1);
  moved.setUTCMonth(target);
  moved.setUTCDate(Math.min(from.getUTCDate(), lastDay));
  return moved;
};

/** The latest time the erasure may finish, counted from receipt. */
export const legalDeadline = (
  jurisdiction: Jurisdiction,
  receivedAt: Date,
  clocks: Readonly<Record<Jurisdiction, LegalClock>> = defaultLegalClocks,
): Date => addLegalPeriod(receivedAt, clocks[jurisdiction].deadline);

/** The deadline after its one extension. */
export const extendedDeadline = (
  jurisdiction: Jurisdiction,
  deadline: Date,
  clocks: Readonly<Record<Jurisdiction, LegalClock>> = defaultLegalClocks,
): Date => addLegalPeriod(deadline, clocks[jurisdiction].extension);

/**
 * Parses `LEGAL_CLOCKS`: `GDPR=1M+2M,CCPA=45D+45D` (the deadline, then the
 * extension; `M` calendar months, `D` days). A jurisdiction not named keeps
 * its default. Undefined when the text is malformed.
 */
export const parseLegalClocks = (
  text: string,
): Readonly<Record<Jurisdiction, LegalClock>> | undefined => {
  const clocks: Record<Jurisdiction, LegalClock> = { ...defaultLegalClocks };
  const period = (amount: string, unit: string): LegalPeriod =>
    unit.toUpperCase() === 'M' ? { months: Number(amount) } : { days: Number(amount) };
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const match = /^([A-Z]+)=([1-9][0-9]{0,2})([MD])\+([1-9][0-9]{0,2})([MD])$/i.exec(entry);
    const jurisdiction = match?.[1]?.toUpperCase() ?? '';
    if (match === null || !isJurisdiction(jurisdiction)) return undefined;
    clocks[jurisdiction] = {
      deadline: period(match[2] ?? '', match[3] ?? ''),
      extension: period(match[4] ?? '', match[5] ?? ''),
    };
  }
  return clocks;
};
