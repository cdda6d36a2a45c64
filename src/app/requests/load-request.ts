import { assertReaches, type Operation, type Reach } from '../../domain/authorization.js';
import { DomainError, deletionRequestNotFound } from '../../domain/domain-error.js';
import type { DeletionRequest } from '../../domain/deletion-request.js';
import type { DeletionRequestId } from '../../domain/ids.js';
import type { DeletionRequestRepository } from '../ports/deletion-request-repository.js';

/**
 * Reads a request the caller may see. A caller limited to their own subject
 * gets PERMISSION_DENIED for a missing request too, so ids cannot be probed:
 * their read asks for the id and their subject together, so another
 * subject's request is never loaded nor decrypted, and answers as fast as a
 * missing one. A caller with broad reach gets NOT_FOUND.
 */
export const loadRequest = async (
  requests: DeletionRequestRepository,
  target: { readonly id: DeletionRequestId; readonly reach: Reach; readonly operation: Operation },
): Promise<DeletionRequest> => {
  const { reach } = target;
  const request = await requests.findById(
    target.id,
    reach.kind === 'OWN' ? { subjectId: reach.subjectId } : undefined,
  );
  if (request === null) {
    assertReaches(target.reach, undefined, target.operation);
    throw deletionRequestNotFound(target.id);
  }
  assertReaches(target.reach, request.subjectId, target.operation);
  return request;
};

/** ABORTED when the caller's etag is stale (AIP-154); an absent etag always passes. */
export const assertEtag = (
  request: DeletionRequest,
  etag: string | undefined,
  current: string,
): void => {
  if (etag === undefined || etag === '' || etag === current) return;
  throw new DomainError({
    code: 'ABORTED',
    reason: 'ETAG_MISMATCH',
    message: 'the deletion request changed since it was read',
    metadata: { deletionRequest: request.id },
  });
};
