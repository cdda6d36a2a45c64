import { DomainError } from './domain-error.js';

/**
 * The budget a principal spends on one call, whichever transport it came by:
 * `mutation` for every call that changes something, `read` for reads (a larger
 * budget), `participant` for linked services reporting outcomes (one principal
 * speaks for every subject it erases, so it gets a budget of its own).
 */
export const principalLimits = ['mutation', 'read', 'participant'] as const;

/** A per-principal budget. */
export type PrincipalLimit = (typeof principalLimits)[number];

/**
 * Budgets of one subject, whoever calls: `codeSend` for each one-time code
 * sent, `confirmAttempt` for each code checked (ASVS: at most 100 failures per
 * account per hour), counted across all of the subject's requests.
 */
export const subjectLimits = ['codeSend', 'confirmAttempt'] as const;

/** A per-subject budget. */
export type SubjectLimit = (typeof subjectLimits)[number];

/** Any budget the service keeps. */
export type RateLimit = PrincipalLimit | SubjectLimit;

/** Whether a budget is a principal's (the others are a subject's). */
export const isPrincipalLimit = (limit: RateLimit): limit is PrincipalLimit =>
  (principalLimits as readonly string[]).includes(limit);

/** How many calls a budget allows per window. */
export interface RateBudget {
  readonly points: number;
  readonly windowMs: number;
}

/**
 * What to do when the shared store cannot say: a deletion service errs towards
 * refusing changes (fail closed, UNAVAILABLE), while reads, which change
 * nothing, go on (fail open).
 */
export const failsOpen = (limit: RateLimit): boolean => limit === 'read';

/** RESOURCE_EXHAUSTED (`RATE_LIMITED`): the budget is spent; try again after `retryDelayMs`. */
export const rateLimited = (limit: RateLimit, retryDelayMs: number): DomainError =>
  new DomainError({
    code: 'RESOURCE_EXHAUSTED',
    reason: 'RATE_LIMITED',
    message: 'too many requests; retry later',
    metadata: { limit },
    retryDelayMs: Math.max(1, Math.ceil(retryDelayMs)),
  });

/** UNAVAILABLE (`RATE_LIMIT_UNAVAILABLE`): the store of a fail-closed budget is down. */
export const rateLimitUnavailable = (limit: RateLimit, cause: unknown): DomainError =>
  new DomainError({
    code: 'UNAVAILABLE',
    reason: 'RATE_LIMIT_UNAVAILABLE',
    message: 'the rate limit cannot be checked; retry later',
    metadata: { limit },
    cause,
  });
