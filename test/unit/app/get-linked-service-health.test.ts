import { describe, expect, it } from 'vitest';
import { createDeletionService } from '../../../src/app/deletion-service.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import type { Principal } from '../../../src/domain/principal.js';
import { aDeletionRequest, aStep } from '../../fixtures/deletion-request-builder.js';
import {
  FAKE_START,
  NO_RECENT_CALLS,
  fakeDeletionDeps,
  fakeParticipants,
  participantSpec,
} from '../../support/fakes/index.js';

const sre: Principal = {
  actor: { kind: 'USER', id: 'sre-health' },
  scopes: new Set(['deletion:read']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
};

const erasing = (
  participants: DeletionRequest['participants'],
  state: DeletionRequest['state'] = 'ERASING',
) => aDeletionRequest({ state, participants });

describe('GetLinkedServiceHealth', () => {
  it('answers per registered service the requests waiting on it, those failed there, and its recent calls', async () => {
    const participants = fakeParticipants([participantSpec('crm'), participantSpec('billing')]);
    const recent = { windowMs: 900_000, calls: 40, failures: 3, p50Ms: 12, p95Ms: 480 };
    participants.seeRecentCalls('crm', recent);
    const deps = fakeDeletionDeps({ participants });
    for (const request of [
      erasing({ crm: aStep('PENDING'), billing: aStep('ACCEPTED') }),
      erasing({ crm: aStep('RETRYING'), billing: aStep('DONE') }),
      erasing({ crm: aStep('FAILED'), billing: aStep('PENDING') }, 'NEEDS_ATTENTION'),
      erasing({ crm: aStep('DONE'), billing: aStep('DONE') }, 'COMPLETED'),
    ])
      await deps.fakes.requests.insert(request);

    expect(await createDeletionService(deps).getLinkedServiceHealth(sre)).toEqual({
      linkedServices: [
        { name: 'crm', waiting: 2, needingAttention: 1, recentCalls: recent },
        { name: 'billing', waiting: 2, needingAttention: 0, recentCalls: NO_RECENT_CALLS },
      ],
      readAt: FAKE_START,
    });
  });

  it('answers an empty registry without reading requests', async () => {
    const deps = fakeDeletionDeps();
    deps.fakes.requests.setDown(true);
    expect(await createDeletionService(deps).getLinkedServiceHealth(sre, {})).toEqual({
      linkedServices: [],
      readAt: FAKE_START,
    });
  });
});
