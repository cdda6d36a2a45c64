import type {
  Erased,
  NothingFound,
  Retained,
} from '../gen/deletion/participant/v1/erasure_participant_service.js';

/** A final outcome as the participant contract carries it (in Erase answers and in reports). */
export type FinalOutcomeProto =
  | { $case: 'erased'; value: Erased }
  | { $case: 'nothingFound'; value: NothingFound }
  | { $case: 'retained'; value: Retained };

/**
 * The domain's outcome of a final answer, whichever message carried it (an
 * ErasureOutcome; left inferred so the use-case input, with mutable arrays, takes it too).
 */
export const finalOutcomeFromProto = (outcome: FinalOutcomeProto) => {
  switch (outcome.$case) {
    case 'erased':
      return {
        kind: 'ERASED' as const,
        records: Number(outcome.value.records),
        categories: outcome.value.categories,
      };
    case 'nothingFound':
      return { kind: 'NOTHING_FOUND' } as const;
    case 'retained':
      return {
        kind: 'RETAINED' as const,
        legalBasis: outcome.value.legalBasis,
        categories: outcome.value.categories,
        until: outcome.value.until ?? null,
        erasedRecords: Number(outcome.value.erasedRecords),
      };
  }
};
