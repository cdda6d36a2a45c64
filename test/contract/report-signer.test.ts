import { createEd25519ReportSigner } from '../../src/crypto/ed25519-report-signer.js';
import { fakeReportSigner } from '../support/fakes/report-signer.js';
import { describeReportSignerContract } from './report-signer.contract.js';

describeReportSignerContract('in-memory fake', () => fakeReportSigner());

describeReportSignerContract('Ed25519 adapter', () => createEd25519ReportSigner(undefined));
