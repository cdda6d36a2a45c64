import { describe, expect, it } from 'vitest';
import { auditPrivilegedCalls } from '../../../src/app/decorators/audited-service.js';
import type { DeletionService } from '../../../src/app/deletion-service.js';
import type { AuditLog } from '../../../src/app/ports/audit-log.js';
import type { AuditEntry } from '../../../src/domain/audit-event.js';
import { deletionRequestName } from '../../../src/domain/ids.js';
import type { Principal } from '../../../src/domain/principal.js';
import { aDeletionRequest } from '../../fixtures/deletion-request-builder.js';

const service = (id: string): Principal => ({
  actor: { kind: 'SERVICE', id },
  scopes: new Set(['deletion:request', 'deletion:read']),
  ownSubjectId: null,
  authTime: null,
  amr: [],
});

/** The decorator over a service that answers `request` to every read, and the entries it appended. */
const audited = (request: ReturnType<typeof aDeletionRequest>) => {
  const appended: AuditEntry[] = [];
  const log = {
    append: (entry: AuditEntry) => {
      appended.push(entry);
      return Promise.resolve();
    },
  } as AuditLog;
  const inner = {
    getDeletionRequest: () => Promise.resolve(request),
  } as unknown as DeletionService;
  const wrapped = auditPrivilegedCalls(
    inner,
    {
      audit: { log, seal: {} as never, outbox: {} as never },
      clock: { now: () => new Date('2026-03-10T10:00:00Z') },
      pseudonymOf: (subjectId) => `pseudonym-of-${subjectId}`,
      ids: { newEventId: () => 'e1' } as never,
    },
    { onFailure: () => undefined },
  );
  return { wrapped, appended, name: deletionRequestName(request.id) };
};

describe('privileged-read audit of getDeletionRequest', () => {
  it('records a service reading a request another caller made', async () => {
    const { wrapped, appended, name } = audited(
      aDeletionRequest({ requester: { kind: 'SERVICE', id: 'svc-requester' } }),
    );
    await wrapped.getDeletionRequest(service('svc-support'), { name });
    expect(appended.map((entry) => [entry.kind, entry.actor.id])).toEqual([
      ['PRIVILEGED_READ', 'svc-support'],
    ]);
  });

  it('records nothing when a service reads a request it made itself', async () => {
    const { wrapped, appended, name } = audited(
      aDeletionRequest({ requester: { kind: 'SERVICE', id: 'svc-requester' } }),
    );
    await wrapped.getDeletionRequest(service('svc-requester'), { name });
    expect(appended).toEqual([]);
  });

  it('records a user with a reader scope whose id merely equals the requesting service', async () => {
    const { wrapped, appended, name } = audited(
      aDeletionRequest({ requester: { kind: 'SERVICE', id: 'same-id' } }),
    );
    await wrapped.getDeletionRequest(
      { ...service('same-id'), actor: { kind: 'USER', id: 'same-id' } },
      { name },
    );
    expect(appended).toHaveLength(1);
  });
});
