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

/** An administrator's credentials: `deletion:admin`, and any further scopes. */
export const adminAuth = async (
  sub = 'admin-cy',
  ...scopes: string[]
): Promise<{ token: string }> => ({
  token: await mintToken({ sub, scope: ['deletion:admin', ...scopes].join(' ') }),
});

/** A linked service's credentials, as its registered identity. */
export const participantAuth = async (identity: string): Promise<{ token: string }> => ({
  token: await mintToken({ sub: identity, scope: 'deletion:participant', service: true }),
});

let counter = 0;
/** A fresh subject id per test, so tests never share an account. */
export const newSubjectId = (prefix = 'user'): string =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;
