import type {
  ErasedSubject,
  ErasedSubjectLedger,
  ErasureEntry,
} from '../../../src/app/ports/erased-subject-ledger.js';
import { outageSwitch, type Outage } from './store-away.js';

/** The erased-subject ledger in memory. */
export interface FakeErasedSubjectLedger extends ErasedSubjectLedger, Outage {
  /** Every entry, in the order they were recorded. */
  entries(): readonly (ErasureEntry | ErasedSubject)[];
}

/** A fake ledger: the first entry of a pseudonym stands, later ones are answered with it. */
export const fakeErasedSubjectLedger = (): FakeErasedSubjectLedger => {
  const ledger = new Map<string, ErasureEntry | ErasedSubject>();
  const outage = outageSwitch();
  return {
    setDown: outage.setDown,
    entries: () => [...ledger.values()].map((entry) => structuredClone(entry)),
    record: (entry) =>
      outage.guard(() => {
        const first = ledger.get(entry.subjectPseudonym);
        if (first !== undefined) return structuredClone(first);
        ledger.set(entry.subjectPseudonym, structuredClone(entry));
        return entry;
      }),
    find: (pseudonyms) =>
      outage.guard(() =>
        [...ledger.values()]
          .filter((entry) => pseudonyms.includes(entry.subjectPseudonym))
          .map(({ subjectPseudonym, deletionRequestId, erasedAt }): ErasedSubject => ({
            subjectPseudonym,
            deletionRequestId,
            erasedAt: new Date(erasedAt.getTime()),
          })),
      ),
  };
};
