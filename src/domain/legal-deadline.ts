/** The legal regimes that set a deadline for erasure. */
export type Jurisdiction = 'GDPR' | 'CCPA';

/** Whether a string names a known jurisdiction. */
export const isJurisdiction = (value: string): value is Jurisdiction =>
  value === 'GDPR' || value === 'CCPA';

const DAY_MS = 86_400_000;

/**
 * The latest time the erasure may finish, counted from receipt: GDPR Art. 12(3)
 * one calendar month (clamped to the month's last day), CCPA 45 days.
 */
export const legalDeadline = (jurisdiction: Jurisdiction, receivedAt: Date): Date => {
  if (jurisdiction === 'CCPA') return new Date(receivedAt.getTime() + 45 * DAY_MS);
  const year = receivedAt.getUTCFullYear();
  const month = receivedAt.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const deadline = new Date(receivedAt.getTime());
  deadline.setUTCDate(1);
  deadline.setUTCMonth(month);
  deadline.setUTCDate(Math.min(receivedAt.getUTCDate(), lastDay));
  return deadline;
};
