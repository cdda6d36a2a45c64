import { operationPolicies, type Operation } from '../../domain/authorization.js';
import type { Principal } from '../../domain/principal.js';
import { aroundUseCases } from './around-use-cases.js';
import type { DeletionService } from '../deletion-service.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import { principalKey, spendBudget, type OnLimiterDown } from './spend-budget.js';

/**
 * Every call spends a point of its principal's budget for the operation's
 * class (`operationPolicies`) before the use case runs, so both transports
 * limit alike. The budget is the caller's, whatever the call turns out to be.
 */
export const rateLimitDeletionService = (
  service: DeletionService,
  deps: { readonly limiter: RateLimiter; readonly onDown?: OnLimiterDown },
): DeletionService => {
  const spend = (operation: Operation, principal: Principal): Promise<void> =>
    spendBudget(deps.limiter, {
      limit: operationPolicies[operation].rateLimit,
      key: principalKey(principal),
      ...(deps.onDown && { onDown: deps.onDown }),
    });
  return aroundUseCases(service, async (useCase, principal, call) => {
    await spend(useCase, principal);
    return call();
  });
};
