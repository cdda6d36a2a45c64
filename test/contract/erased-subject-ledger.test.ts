import { createMongoErasedSubjects } from '../../src/persistence/mongo/mongo-erased-subjects.js';
import { fakeErasedSubjectLedger } from '../support/fakes/erased-subject-ledger.js';
import { useTestDatabase } from '../support/test-database.js';
import { describeErasedSubjectLedgerContract } from './erased-subject-ledger.contract.js';

const db = useTestDatabase('contract_ledger');

describeErasedSubjectLedgerContract('in-memory fake', () =>
  Promise.resolve(fakeErasedSubjectLedger()),
);

describeErasedSubjectLedgerContract('MongoDB adapter', () =>
  Promise.resolve(createMongoErasedSubjects(db())),
);
