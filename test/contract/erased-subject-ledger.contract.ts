import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  ErasedSubject,
  ErasedSubjectLedger,
  ErasureEntry,
} from '../../src/app/ports/erased-subject-ledger.js';
import type { DeletionRequestId } from '../../src/domain/ids.js';

const erasedAt = new Date('2026-12-06T10:00:00Z');

/** An entry of a fresh pseudonym (or of `subjectPseudonym`) entered by a fresh request. */
const anEntry = (overrides: Partial<ErasureEntry> = {}): ErasureEntry => ({
  subjectPseudonym: `psn_${randomUUID()}`,
  deletionRequestId: randomUUID() as DeletionRequestId,
  erasedAt,
  localErasure: { accounts: 1, sessions: 3, apiTokens: 2, at: erasedAt },
  finalNotice: {
    key: 'COMPLETED',
    kind: 'COMPLETED',
    outcome: 'SENT',
    channel: 'email',
    messageId: 'msg-1',
    at: new Date(erasedAt.getTime() + 1000),
  },
  ...overrides,
});

const erased = ({
  subjectPseudonym,
  deletionRequestId,
  erasedAt: at,
}: ErasureEntry): ErasedSubject => ({
  subjectPseudonym,
  deletionRequestId,
  erasedAt: at,
});

const byPseudonym = (entries: readonly ErasedSubject[]) =>
  [...entries].sort((a, b) => (a.subjectPseudonym < b.subjectPseudonym ? -1 : 1));

/** The contract of ErasedSubjectLedger: a subject is in it once, its first entry standing. */
export const describeErasedSubjectLedgerContract = (
  name: string,
  makeSubject: () => Promise<ErasedSubjectLedger>,
): void => {
  describe(`ErasedSubjectLedger contract: ${name}`, () => {
    let ledger: ErasedSubjectLedger;
    beforeEach(async () => {
      ledger = await makeSubject();
    });

    it('records an erasure, answers it, and finds the subject by pseudonym', async () => {
      const entry = anEntry();
      expect(await ledger.record(entry)).toEqual(entry);
      expect(await ledger.find([entry.subjectPseudonym])).toEqual([erased(entry)]);
    });

    it('answers a later entry of the subject with the first, whole, which stands', async () => {
      const first = anEntry({ finalNotice: null });
      await ledger.record(first);
      const again = anEntry({ subjectPseudonym: first.subjectPseudonym });
      expect(await ledger.record(again)).toEqual(first);
      expect(await ledger.find([first.subjectPseudonym])).toEqual([erased(first)]);
    });

    it('finds only the pseudonyms in the ledger', async () => {
      const [one, two] = [anEntry(), anEntry()];
      await ledger.record(one);
      await ledger.record(two);
      const found = await ledger.find([
        two.subjectPseudonym,
        'psn_never-erased',
        one.subjectPseudonym,
      ]);
      expect(byPseudonym(found)).toEqual(byPseudonym([erased(one), erased(two)]));
      expect(await ledger.find(['psn_never-erased'])).toEqual([]);
      expect(await ledger.find([])).toEqual([]);
    });

    it('keeps one entry when purges of the subject record at once, and answers it to each', async () => {
      const subjectPseudonym = `psn_${randomUUID()}`;
      const entries = Array.from({ length: 5 }, () => anEntry({ subjectPseudonym }));
      const answers = await Promise.all(entries.map((entry) => ledger.record(entry)));
      const first = answers[0]!;
      expect(entries).toContainEqual(first);
      expect(answers.every((answer) => JSON.stringify(answer) === JSON.stringify(first))).toBe(
        true,
      );
      expect(await ledger.find([subjectPseudonym])).toEqual([erased(first as ErasureEntry)]);
    });
  });
};
