import { describe, expect, it } from 'vitest';
import type { DeletionDeps } from '../../../src/app/deletion-deps.js';
import type { DeletionRequestRepository } from '../../../src/app/ports/deletion-request-repository.js';
import { sweepRetention } from '../../../src/app/worker/sweep-retention.js';
import type { AuditEntry } from '../../../src/domain/audit-event.js';
import type { DeletionRequest } from '../../../src/domain/deletion-request.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import { aDeletionRequest } from '../../fixtures/deletion-request-builder.js';

/** One stored request, a repository over it whose prune fails when told, and the audit entries. */
const world = (request: DeletionRequest) => {
  let stored = request;
  let pruneFails = 0;
  const pruned: number[] = [];
  const appended: AuditEntry[] = [];
  const requests = {
    findRetentionDue: () => Promise.resolve(!stored.retention?.snapshotsPruned ? [stored] : []),
    update: (next: DeletionRequest, previous: DeletionRequest) => {
      if (previous.version !== stored.version) return Promise.resolve(false);
      stored = next;
      return Promise.resolve(true);
    },
    pruneSnapshots: (_id: string, keepVersion: number) => {
      if (pruneFails > 0) {
        pruneFails -= 1;
        return Promise.reject(
          new DomainError({ code: 'UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE', message: 'down' }),
        );
      }
      pruned.push(keepVersion);
      return Promise.resolve();
    },
  } as unknown as DeletionRequestRepository;
  const deps = {
    requests,
    audit: {
      log: {
        append: (entry: AuditEntry) => {
          appended.push(entry);
          return Promise.resolve();
        },
      },
    },
    clock: { now: () => new Date('2027-01-01T00:00:00Z') },
    pseudonymOf: (subjectId: string) => `psn_of_${subjectId}`,
    signer: { digest: () => 'd'.repeat(64) },
    policy: { retentionMs: 86_400_000 },
  } as unknown as DeletionDeps;
  return {
    deps,
    appended,
    pruned,
    failNextPrune: () => (pruneFails = 1),
    stored: () => stored,
  };
};

describe('the retention sweep', () => {
  it('audits, cuts, then prunes the older snapshots; a failed prune is done by the next sweep', async () => {
    const request = { ...aDeletionRequest({ state: 'CANCELLED', version: 4 }), outbox: [] };
    const w = world(request);
    w.failNextPrune();

    await expect(sweepRetention(w.deps)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(w.appended.map((entry) => [entry.kind, entry.key])).toEqual([
      ['RECORD_SWEPT', `${request.id}#record_swept`],
    ]);
    expect(w.stored()).toMatchObject({
      version: 5,
      subjectId: `psn_of_${request.subjectId}`,
      retention: { snapshotsPruned: false },
    });

    // Found again for its prune; not cut (or audited) a second time.
    expect(await sweepRetention(w.deps)).toBe(0);
    expect(w.pruned).toEqual([5]);
    expect(w.stored()).toMatchObject({ version: 6, retention: { snapshotsPruned: true } });
    expect(w.appended).toHaveLength(1);
    expect(await sweepRetention(w.deps)).toBe(0);
    expect(w.pruned).toEqual([5]);
  });
});
