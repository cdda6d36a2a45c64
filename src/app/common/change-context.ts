import type { ChangeContext } from '../../domain/deletion-request.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';

/** Who makes a change, now, in the current trace. */
export const changeContextOf = (
  deps: Pick<DeletionDeps, 'clock' | 'trace'>,
  principal: Principal,
): ChangeContext => ({
  actor: principal.actor,
  now: deps.clock.now(),
  ...deps.trace.current(),
});
