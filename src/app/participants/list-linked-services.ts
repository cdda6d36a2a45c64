import { authorize } from '../../domain/authorization.js';
import type { ParticipantSpec } from '../../domain/erasure-steps.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { noInput, parseInput } from '../inputs.js';

/** A linked service as its registration describes it (not its address or credentials). */
export interface LinkedService {
  readonly name: string;
  readonly phases: ParticipantSpec['phases'];
  readonly after: readonly string[];
  readonly maxAttempts: number;
  readonly subjectIdForm: 'real' | 'pseudonym';
}

/**
 * The linked services this replica calls, in registration order. Not
 * audited: it names services, never a subject. Errors: PERMISSION_DENIED,
 * INVALID_ARGUMENT.
 */
export const listLinkedServices =
  (deps: Pick<DeletionDeps, 'participants'>) =>
  async (principal: Principal, raw?: Record<string, never>): Promise<readonly LinkedService[]> => {
    authorize(principal, 'listLinkedServices');
    parseInput(noInput, raw);
    return Promise.resolve(
      deps.participants.specs.map((spec) => ({
        name: spec.name,
        phases: spec.phases,
        after: spec.after,
        maxAttempts: spec.maxAttempts,
        subjectIdForm: spec.subjectId ?? 'real',
      })),
    );
  };
