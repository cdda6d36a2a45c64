import { authorize } from '../../domain/authorization.js';
import type { SubjectId } from '../../domain/ids.js';
import type { Principal } from '../../domain/principal.js';
import { auditPrivilegedRead } from '../audit/audit-trail.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { checkErasedSubjectsInput, parseInput, type CheckErasedSubjectsInput } from '../inputs.js';
import { assertParticipantIdentity } from '../participants/report-erasure-outcome.js';
import type { ErasedSubject } from '../ports/erased-subject-ledger.js';

/** A subject of the asked batch that was erased, named as the linked service named it. */
export interface ErasedSubjectAnswer {
  readonly subjectId: string;
  readonly deletionRequestId: ErasedSubject['deletionRequestId'];
  readonly erasedAt: Date;
}

/**
 * A linked service restored from a backup asks which of a batch of its
 * subjects were erased and must be erased again. It names them as it knows
 * them (its pseudonyms when registered for pseudonyms); the ledger holds only
 * pseudonyms. Errors: PERMISSION_DENIED (`NOT_A_SERVICE`, `NOT_THIS_PARTICIPANT`),
 * INVALID_ARGUMENT. Audited as a privileged read (how many were asked and found).
 */
export const checkErasedSubjects =
  (
    deps: Pick<DeletionDeps, 'audit' | 'clock' | 'ids' | 'ledger' | 'participants' | 'pseudonymOf'>,
  ) =>
  async (principal: Principal, raw: CheckErasedSubjectsInput): Promise<ErasedSubjectAnswer[]> => {
    authorize(principal, 'checkErasedSubjects');
    const input = parseInput(checkErasedSubjectsInput, raw);
    const spec = assertParticipantIdentity(deps, principal, input.participant);
    const pseudonymFor = new Map(
      input.subjectIds.map((id) => [
        spec.subjectId === 'pseudonym' ? id : deps.pseudonymOf(id as SubjectId),
        id,
      ]),
    );
    const found = await deps.ledger.find([...pseudonymFor.keys()]);
    await auditPrivilegedRead(deps, principal, {
      operation: 'checkErasedSubjects',
      details: {
        participant: input.participant,
        asked: String(input.subjectIds.length),
        erased: String(found.length),
      },
    });
    return found.flatMap((entry) => {
      const subjectId = pseudonymFor.get(entry.subjectPseudonym);
      return subjectId === undefined
        ? []
        : [{ subjectId, deletionRequestId: entry.deletionRequestId, erasedAt: entry.erasedAt }];
    });
  };
