import type { Connection } from 'mongoose';
import type {
  ErasedSubject,
  ErasedSubjectLedger,
  ErasureEntry,
} from '../../app/ports/erased-subject-ledger.js';
import type { LocalErasureRecord } from '../../domain/erasure-report.js';
import type { SentNotice } from '../../domain/subject-notice.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import { insertedFirst, mongoCall } from './classify-mongo-error.js';

const ERASED_SUBJECTS = 'erased_subjects';

/** One erased subject: the pseudonym is the `_id`, so a subject is in the ledger once. */
interface ErasedSubjectDocument {
  _id: string;
  deletionRequestId: string;
  erasedAt: Date;
  /** What the purge erased here and told the subject (absent in entries written before). */
  localErasure?: LocalErasureRecord;
  finalNotice?: SentNotice | null;
}

const toEntry = (document: ErasedSubjectDocument): ErasureEntry | ErasedSubject => {
  const erased = {
    subjectPseudonym: document._id,
    deletionRequestId: document.deletionRequestId as DeletionRequestId,
    erasedAt: document.erasedAt,
  };
  const { localErasure, finalNotice } = document;
  return localErasure === undefined
    ? erased
    : { ...erased, localErasure, finalNotice: finalNotice ?? null };
};

/** The erased-subject ledger in MongoDB (or FerretDB): pseudonyms only, never a subject id. */
export const createMongoErasedSubjects = (conn: Connection): ErasedSubjectLedger => {
  const ledger = conn.collection<ErasedSubjectDocument>(ERASED_SUBJECTS);
  return {
    record: (entry) =>
      mongoCall(persistenceSpan(ERASED_SUBJECTS, 'record'), {}, async () => {
        const document: ErasedSubjectDocument = {
          _id: entry.subjectPseudonym,
          deletionRequestId: entry.deletionRequestId,
          erasedAt: entry.erasedAt,
          localErasure: entry.localErasure,
          finalNotice: entry.finalNotice,
        };
        if (await insertedFirst(() => ledger.insertOne(document))) return entry;
        // Recorded before (a retried purge, or an earlier erasure of the subject): the first stands.
        const first = await ledger.findOne({ _id: entry.subjectPseudonym });
        return first === null ? entry : toEntry(first);
      }),
    find: (pseudonyms) =>
      mongoCall(persistenceSpan(ERASED_SUBJECTS, 'find'), {}, async () =>
        (await ledger.find({ _id: { $in: [...pseudonyms] } }).toArray()).map(
          (document): ErasedSubject => ({
            subjectPseudonym: document._id,
            deletionRequestId: document.deletionRequestId as DeletionRequestId,
            erasedAt: document.erasedAt,
          }),
        ),
      ),
  };
};
