import { authorize } from '../../domain/authorization.js';
import type { ParticipantSpec } from '../../domain/erasure-steps.js';
import type { Principal } from '../../domain/principal.js';
import type { DeletionDeps } from '../deletion-deps.js';
import { noInput, parseInput } from '../inputs.js';

/** A linked service as its registration describes it (not its address, credentials or webhook). */
export interface LinkedService {
  readonly name: string;
  readonly phases: ParticipantSpec['phases'];
  readonly after: readonly string[];
  readonly maxAttempts: number;
  readonly subjectIdForm: 'real' | 'pseudonym';
  /** The data categories the deletion covers there; empty: all it holds. */
  readonly categories: readonly string[];
  /** The owning team (null: none registered), and whether its alerts have somewhere to go. */
  readonly owner: { readonly team: string; readonly alertsConfigured: boolean } | null;
  /** The legal basis it cites when it keeps something; null: none registered. */
  readonly legalBasis: string | null;
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
        categories: spec.categories ?? [],
        owner:
          spec.owner === undefined
            ? null
            : { team: spec.owner.team, alertsConfigured: spec.owner.webhook !== undefined },
        legalBasis: spec.legalBasis ?? null,
      })),
    );
  };
