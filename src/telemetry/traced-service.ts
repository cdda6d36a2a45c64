import type { DeletionService } from '../app/deletion-service.js';
import { aroundUseCases } from '../app/decorators/around-use-cases.js';
import { withSpan } from './with-span.js';
import { attributeKeys, useCaseSpan } from './catalogue.js';

/**
 * Wraps every use case in a span. Attributes say what kind of caller acted,
 * never who the subject is. A watch's span covers authorization and the
 * first read; the events that follow are not one operation.
 */
export const traceDeletionService = (service: DeletionService): DeletionService =>
  aroundUseCases(service, (useCase, principal, call) =>
    withSpan(useCaseSpan(useCase), { [attributeKeys.actorKind]: principal.actor.kind }, call),
  );
