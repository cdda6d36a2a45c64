import type { SignedErasureReport } from '../../domain/erasure-report.js';
import { parseDeletionRequestName, type DeletionRequestId } from '../../domain/ids.js';
import type { DeletionDeps } from '../deletion-deps.js';

/**
 * The signed report a completion notice's link points to, for whoever holds
 * the link (the subject has no account left to sign in with): only with a
 * token made for that request and not expired, and only once it completed
 * and while the report is kept. Null otherwise, whatever the reason, so the
 * answer tells nothing about other requests.
 */
export const getReportByLink =
  (deps: Pick<DeletionDeps, 'clock' | 'reportLinks' | 'requests'>) =>
  async (link: {
    /** The request's id, as the link's path carries it. */
    readonly deletionRequest: string;
    readonly token: string;
  }): Promise<SignedErasureReport | null> => {
    const id: DeletionRequestId | undefined = parseDeletionRequestName(
      `deletionRequests/${link.deletionRequest}`,
    );
    if (id === undefined || !deps.reportLinks.verify(id, link.token, deps.clock.now())) return null;
    const request = await deps.requests.findById(id);
    return request?.state === 'COMPLETED' ? request.report : null;
  };
