import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeletionClient } from '../../clients/trpc/deletion-client.js';
import {
  linkedService_PhaseToJSON,
  linkedService_SubjectIdFormToJSON,
} from '../../clients/grpc/gen/deletion/v1/deletion_service.js';
import { adminAuth, castFor, newSubjectId } from '../support/principals.js';
import type { Transport } from '../support/scenario-clients.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Two linked services as PARTICIPANTS registers them: addresses and secrets never leave. */
const PARTICIPANTS = [
  {
    name: 'billing',
    address: '127.0.0.1:9',
    phases: ['suspend', 'restore', 'erase'],
    categories: ['invoices', 'payment-methods'],
    owner: { team: 'payments', webhook: 'https://alerts.payments.internal/deletion' },
    legalBasis: 'tax law: invoices are kept 10 years',
  },
  {
    name: 'analytics',
    address: '127.0.0.1:9',
    phases: ['erase'],
    after: ['billing'],
    maxAttempts: 3,
    subjectId: 'pseudonym',
  },
];

describe.each<Transport>(['grpc', 'trpc'])('the linked-service registry over %s', (transport) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PARTICIPANTS: JSON.stringify(PARTICIPANTS) });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  /** ListLinkedServices, each service in the domain's words. */
  const list = async (auth: { token: string }) => {
    if (transport === 'trpc')
      return createDeletionClient({ url: t.trpcUrl, token: auth.token }).listLinkedServices.query();
    const { linkedServices } = await t.client.listLinkedServices({}, auth);
    return linkedServices.map((linked) => ({
      name: linked.name,
      phases: linked.phases.map((phase) =>
        linkedService_PhaseToJSON(phase).replace('PHASE_', '').toLowerCase(),
      ),
      after: linked.after,
      maxAttempts: linked.maxAttempts,
      subjectIdForm: linkedService_SubjectIdFormToJSON(linked.subjectIdForm)
        .replace('SUBJECT_ID_FORM_', '')
        .toLowerCase(),
      categories: linked.dataCategories,
      owner:
        linked.ownerTeam === ''
          ? null
          : { team: linked.ownerTeam, alertsConfigured: linked.ownerAlertsConfigured },
      legalBasis: linked.legalBasis === '' ? null : linked.legalBasis,
    }));
  };

  it('lists every registered service in order: phases, ordering, budget, subject id form', async () => {
    const answer = await list(await adminAuth());
    expect(answer).toEqual([
      {
        name: 'billing',
        phases: ['suspend', 'restore', 'erase'],
        after: [],
        maxAttempts: 8,
        subjectIdForm: 'real',
        categories: ['invoices', 'payment-methods'],
        owner: { team: 'payments', alertsConfigured: true },
        legalBasis: 'tax law: invoices are kept 10 years',
      },
      {
        name: 'analytics',
        phases: ['erase'],
        after: ['billing'],
        maxAttempts: 3,
        subjectIdForm: 'pseudonym',
        categories: [],
        owner: null,
        legalBasis: null,
      },
    ]);
    // Where it is and where its alerts go are for the service, not for its readers.
    expect(JSON.stringify(answer)).not.toContain('127.0.0.1');
    expect(JSON.stringify(answer)).not.toContain('alerts.payments.internal');
  });

  it('is for the people who run deletions, not for a subject', async () => {
    const cast = await castFor(newSubjectId('registry'));
    await expect(list(cast.self)).rejects.toThrow(/not allowed to listLinkedServices/);
    expect(await list(cast.approver)).toHaveLength(2);
  });
});
