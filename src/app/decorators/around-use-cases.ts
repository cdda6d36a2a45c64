import type { Principal } from '../../domain/principal.js';
import type { DeletionService } from '../deletion-service.js';

/** What runs about one use case: given its name and caller, it decides when (and whether) `call` runs. */
export type AroundUseCase = <T>(
  useCase: keyof DeletionService,
  principal: Principal,
  call: () => Promise<T>,
) => Promise<T>;

/**
 * The service with `around` about every use case, each called with the same
 * arguments (a watch's abort signal included) and answering the same result.
 * Every use case, so one added later is never left out of a decorator.
 */
export const aroundUseCases = (service: DeletionService, around: AroundUseCase): DeletionService =>
  Object.fromEntries(
    (Object.keys(service) as (keyof DeletionService)[]).map((useCase) => {
      const original = service[useCase] as (
        principal: Principal,
        ...rest: unknown[]
      ) => Promise<unknown>;
      return [
        useCase,
        (principal: Principal, ...rest: unknown[]) =>
          around(useCase, principal, () => original(principal, ...rest)),
      ];
    }),
  ) as unknown as DeletionService;
