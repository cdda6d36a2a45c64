import type { Connection } from 'mongoose';
import type { ErasedSubject, ErasedSubjectLedger } from '../../app/ports.js';
import { persistenceSpan } from '../../app/telemetry-catalogue.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import { insertedFirst, mongoCall } from './classify-mongo-error.js';

const ERASED_SUBJECTS = 'erased_subjects';

/** One erased subject: the pseudonym is the `_id`, so a subject is in the ledger once. */
interface ErasedSubjectDocument {
  _id: string;
  deletionRequestId: string;
  erasedAt: Date;
}

/** The erased-subject ledger in MongoDB (or FerretDB): pseudonyms only, never a subject id. */
export const createMongoErasedSubjects = (conn: Connection): ErasedSubjectLedger => {
  const ledger = conn.collection<ErasedSubjectDocument>(ERASED_SUBJECTS);
  return {
    record: (entry) =>
      mongoCall(persistenceSpan(ERASED_SUBJECTS, 'record'), {}, async () => {
        // Recorded before (a retried purge, or an earlier erasure of the subject): the first stands.
        await insertedFirst(() =>
          ledger.insertOne({
            _id: entry.subjectPseudonym,
            deletionRequestId: entry.deletionRequestId,
            erasedAt: entry.erasedAt,
          }),
        );
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
