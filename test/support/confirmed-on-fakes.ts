import type { DeletionService } from '../../src/app/deletion-service.js';
import type { DeletionRequest } from '../../src/domain/deletion-request.js';
import { deletionRequestName, type SubjectId } from '../../src/domain/ids.js';
import type { Principal } from '../../src/domain/principal.js';
import type { FakeDeletionDeps } from './fakes/index.js';

/**
 * A request of a new subject (seeded with an e-mail address) made and
 * confirmed with its code on fake deps, then the clock moved on by `thenMs`:
 * the request as stored then.
 */
export const confirmedOnFakes = async (
  world: { readonly deps: FakeDeletionDeps; readonly service: DeletionService },
  subjectId: string,
  thenMs: number,
): Promise<DeletionRequest> => {
  const { deps, service } = world;
  const id = subjectId as SubjectId;
  deps.fakes.accounts.seed({ subjectId: id, email: `${subjectId}@mail.test` });
  const self: Principal = {
    actor: { kind: 'USER', id },
    scopes: new Set(['deletion:self']),
    ownSubjectId: id,
    authTime: null,
    amr: [],
  };
  const created = await service.requestDeletion(self, { subjectId: id });
  await deps.afterwards.settled();
  await service.confirmDeletion(self, {
    name: deletionRequestName(created.id),
    code: deps.fakes.notifier.codeFor(created.id) ?? '',
  });
  await deps.afterwards.settled();
  deps.fakes.clock.advance(thenMs);
  const request = await deps.requests.findById(created.id);
  if (request === null) throw new Error(`request ${created.id} is gone`);
  return request;
};
