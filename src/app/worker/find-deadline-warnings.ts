import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionDeps } from '../deletion-deps.js';

/** Open requests one check reports at most (the gauge counts them all). */
const CHECK_BATCH = 500;

/** An open request near (or past) its legal deadline: what an SRE's alert needs, no subject. */
export interface DeadlineWarning {
  readonly deletionRequestId: DeletionRequest['id'];
  readonly state: DeletionRequest['state'];
  readonly jurisdiction: DeletionRequest['jurisdiction'];
  readonly legalDeadline: Date;
  /** Negative once the deadline has passed. */
  readonly hoursLeft: number;
  readonly extended: boolean;
}

/**
 * The open requests whose legal deadline is less than `warningMs` away, or
 * past, the nearest first. Errors: UNAVAILABLE.
 */
export const findDeadlineWarnings = async (
  deps: Pick<DeletionDeps, 'requests' | 'clock'>,
  warningMs: number,
): Promise<DeadlineWarning[]> => {
  const now = deps.clock.now();
  const near = await deps.requests.findNearDeadline(
    new Date(now.getTime() + warningMs),
    CHECK_BATCH,
  );
  return near.map((request) => ({
    deletionRequestId: request.id,
    state: request.state,
    jurisdiction: request.jurisdiction,
    legalDeadline: request.legalDeadline,
    hoursLeft: Math.floor((request.legalDeadline.getTime() - now.getTime()) / 3_600_000),
    extended: request.deadlineExtension !== null,
  }));
};
