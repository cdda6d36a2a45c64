/** Why a request needs a second person's approval. */
export type RiskReason =
  'SUBJECT_PRIVILEGED_ROLE' | 'REQUESTED_BY_OTHER' | 'SUBJECT_FLAGGED' | 'POLICY_ALWAYS';

/** The facts the risk policy looks at. */
export interface RiskFacts {
  readonly subjectRoles: readonly string[];
  readonly subjectFlagged: boolean;
  readonly requestedBySubject: boolean;
}

/** The configurable part of the policy. */
export interface RiskPolicyConfig {
  /** Roles that make a subject privileged (default admin, owner). */
  readonly privilegedRoles: readonly string[];
  /** Require approval for every request. */
  readonly alwaysRequireApproval: boolean;
}

/** The reasons a request is high risk; empty means it goes straight to SCHEDULED. */
export const assessRisk = (facts: RiskFacts, config: RiskPolicyConfig): RiskReason[] => {
  const reasons: RiskReason[] = [];
  if (facts.subjectRoles.some((role) => config.privilegedRoles.includes(role))) {
    reasons.push('SUBJECT_PRIVILEGED_ROLE');
  }
  if (!facts.requestedBySubject) reasons.push('REQUESTED_BY_OTHER');
  if (facts.subjectFlagged) reasons.push('SUBJECT_FLAGGED');
  if (config.alwaysRequireApproval) reasons.push('POLICY_ALWAYS');
  return reasons;
};
