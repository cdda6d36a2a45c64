import type { Operation, Reach } from '../../domain/authorization.js';
import { DomainError } from '../../domain/domain-error.js';
import { etagOf, type DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import { assertEtag, loadRequest } from './load-request.js';
import type { DeletionRequestRepository } from '../ports/deletion-request-repository.js';

const MAX_TRIES = 4;
/** The first retry waits up to twice this (jittered), each later one twice as long. */
const RETRY_PAUSE_MS = 5;

/** The app layer keeps off Node's modules (dependency rule): a timer promise of its own. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What to change, on whose behalf. `change` is a pure domain function. */
export interface Mutation {
  readonly id: DeletionRequestId;
  readonly reach: Reach;
  readonly operation: Operation;
  readonly etag?: string | undefined;
  readonly change: (current: DeletionRequest) => DeletionRequest;
  /** The request as the caller just read it (with `reach` checked): the first try starts from it. */
  readonly loaded?: DeletionRequest | undefined;
  /**
   * Whether the call is a retry of one that made its change already: then
   * the request is answered as it is, without a write or an etag check.
   */
  readonly repeated?: ((current: DeletionRequest) => boolean) | undefined;
}

/**
 * Applies a domain change as one version-guarded update. On a lost race it
 * pauses briefly, reads again and re-applies, so the domain decides on the
 * latest state (a concurrent cancel turns an approve into INVALID_STATE, not
 * a lost update).
 * An etag given by the caller is checked against the first read only.
 */
export const mutateRequest = async (
  requests: DeletionRequestRepository,
  mutation: Mutation,
): Promise<DeletionRequest> => {
  for (let attempt = 0; attempt < MAX_TRIES; attempt += 1) {
    // The writer that won may not have finished (on FerretDB its claim comes before its write):
    // a short, growing, jittered pause lets it, instead of reading the same version again.
    if (attempt > 0) await sleep(Math.random() * RETRY_PAUSE_MS * 2 ** attempt);
    const current =
      attempt === 0 && mutation.loaded !== undefined
        ? mutation.loaded
        : await loadRequest(requests, mutation);
    if (mutation.repeated?.(current) === true) return current;
    if (attempt === 0) assertEtag(current, mutation.etag, etagOf(current));
    const next = mutation.change(current);
    if (await requests.update(next, current)) return next;
  }
  throw new DomainError({
    code: 'ABORTED',
    reason: 'CONCURRENT_UPDATE',
    message: 'the deletion request is being changed concurrently; retry',
    metadata: { deletionRequest: mutation.id },
  });
};
