import type { DeletionService } from '../../src/app/deletion-service.js';
import type { Authenticator } from '../../src/auth/authenticator.js';

/**
 * A DeletionService whose every operation throws what the test put in
 * `thrown.next`, and an authenticator that lets anyone in: for checking how a
 * transport puts each error on the wire.
 */
export const throwingService = (): {
  service: DeletionService;
  authenticate: Authenticator;
  thrown: { next: unknown };
} => {
  const thrown: { next: unknown } = { next: undefined };
  const throwing = async (): Promise<never> => {
    await Promise.resolve();
    throw thrown.next;
  };
  return {
    service: new Proxy({}, { get: () => throwing }) as DeletionService,
    authenticate: () =>
      Promise.resolve({
        actor: { kind: 'USER', id: 'u' },
        scopes: new Set(),
        ownSubjectId: 'u',
        authTime: null,
        amr: [],
      }),
    thrown,
  };
};
