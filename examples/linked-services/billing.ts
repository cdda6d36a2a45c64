import {
  createParticipantServer,
  type EraseOutcome,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { createTable } from './table.js';

const TEN_YEARS_MS = 10 * 365 * 86_400_000;

/**
 * Billing: stops charging a suspended subject, erases their payment methods,
 * and keeps their invoices for the tax retention period (a RETAINED answer
 * with its legal basis). Idempotent in its own store: a repeat of a deletion
 * request answers what the first call did.
 */
export const createBillingService = (subjects: readonly string[]): ParticipantServer => {
  const paymentMethods = createTable(subjects.map((subject) => [subject, 2] as const));
  const invoices = createTable(subjects.map((subject) => [subject, 12] as const));
  const charging = createTable<boolean>(subjects.map((subject) => [subject, true] as const));
  const erasures = createTable<EraseOutcome>();
  return createParticipantServer({
    suspend: async ({ subjectId }) => {
      if ((await charging.get(subjectId)) !== undefined) await charging.set(subjectId, false);
    },
    restore: async ({ subjectId }) => {
      if ((await paymentMethods.get(subjectId)) !== undefined) await charging.set(subjectId, true);
    },
    erase: async ({ deletionRequest, subjectId }) => {
      const known = await erasures.get(deletionRequest);
      if (known) return known;
      const methods = (await paymentMethods.take(subjectId)) ?? 0;
      await charging.take(subjectId);
      const kept = (await invoices.get(subjectId)) ?? 0;
      const outcome: EraseOutcome =
        kept > 0
          ? {
              kind: 'retained',
              legalBasis: 'Tax law: invoices are kept for 10 years (AO §147, HGB §257)',
              categories: ['invoices'],
              until: new Date(Date.now() + TEN_YEARS_MS),
              erasedRecords: methods,
            }
          : methods > 0
            ? { kind: 'erased', records: methods, categories: ['payment_methods'] }
            : { kind: 'nothingFound' };
      await erasures.set(deletionRequest, outcome);
      return outcome;
    },
  });
};
