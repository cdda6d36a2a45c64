import { mintToken } from './tokens.js';

/** Tokens of the usual cast, for a given subject. */
export interface Cast {
  readonly self: { token: string };
  readonly service: { token: string };
  readonly approver: { token: string };
  readonly secondApprover: { token: string };
  readonly admin: { token: string };
}

export const castFor = async (subjectId: string): Promise<Cast> => ({
  self: { token: await mintToken({ sub: subjectId, scope: 'deletion:self' }) },
  service: {
    token: await mintToken({
      sub: 'svc-support-backend',
      scope: 'deletion:request deletion:read',
      service: true,
    }),
  },
  approver: {
    token: await mintToken({ sub: 'approver-ada', scope: 'deletion:approve deletion:read' }),
  },
  secondApprover: {
    token: await mintToken({ sub: 'approver-bo', scope: 'deletion:approve deletion:read' }),
  },
  admin: { token: await mintToken({ sub: 'admin-cy', scope: 'deletion:admin' }) },
});

let counter = 0;
/** A fresh subject id per test, so tests never share an account. */
export const newSubjectId = (prefix = 'user'): string =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;
