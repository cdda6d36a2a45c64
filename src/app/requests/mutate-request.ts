import type { Operation, Reach } from '../../domain/authorization.js';
import { concurrentUpdate, deletionRequestNotFound } from '../../domain/domain-error.js';
import { etagOf, type DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import { assertEtag, loadRequest } from './load-request.js';
import type { DeletionRequestRepository } from '../ports/deletion-request-repository.js';
import { compareAndSet } from '../common/compare-and-set.js';

const MAX_TRIES = 4;
/** The first retry waits up to twice this (jittered), each later one twice as long. */
const RETRY_PAUSE_MS = 5;

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
): Promise<DeletionRequest> =>
  compareAndSet<DeletionRequest, DeletionRequest>({
    start: mutation.loaded ?? (await loadRequest(requests, mutation)),
    tries: MAX_TRIES,
    // The writer that won may not have finished (on FerretDB its claim comes before its write):
    // a short, growing, jittered pause lets it, instead of reading the same version again.
    pauseMs: (attempt) => Math.random() * RETRY_PAUSE_MS * 2 ** attempt,
    reread: () => loadRequest(requests, mutation),
    decide: (current, attempt) => {
      if (mutation.repeated?.(current) === true) return { result: current };
      if (attempt === 0) assertEtag(current, mutation.etag, etagOf(current));
      const next = mutation.change(current);
      return { next, result: next };
    },
    save: (next, current) => requests.update(next, current),
    gone: () => {
      throw deletionRequestNotFound(mutation.id);
    },
    exhausted: () => {
      throw concurrentUpdate(
        'the deletion request is being changed concurrently; retry',
        mutation.id,
      );
    },
  });
