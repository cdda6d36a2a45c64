import { SignJWT } from 'jose';

export const TEST_ISSUER = 'https://issuer.test/';
export const TEST_AUDIENCE = 'account-deletion-test';
export const TEST_SECRET = 'test-only-hs256-secret-0123456789abcdef';

export interface TokenOptions {
  readonly sub: string;
  readonly scope: string;
  readonly service?: boolean;
  readonly expiresInSeconds?: number;
  readonly amr?: readonly string[];
  readonly authTime?: Date;
  readonly secret?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Mints an HS256 test token (the service accepts HS256 only with a configured test secret). */
export const mintToken = async (options: TokenOptions): Promise<string> => {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { scope: options.scope };
  if (options.service) claims.client_id = options.sub;
  if (options.amr) claims.amr = [...options.amr];
  if (options.authTime) claims.auth_time = Math.floor(options.authTime.getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.sub)
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (options.expiresInSeconds ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
};
