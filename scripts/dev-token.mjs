// Mints a development token for `npm start` (HS256 with the development secret;
// production refuses HS256). Usage:
//   npm run token -- --sub alice --scope deletion:self
//   npm run token -- --sub support-backend --scope "deletion:request deletion:read" --service
//   npm run token -- --sub alice --scope deletion:self --mfa      (a fresh step-up token)
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'alice' },
    scope: { type: 'string', default: 'deletion:self' },
    service: { type: 'boolean', default: false },
    mfa: { type: 'boolean', default: false },
    ttl: { type: 'string', default: '3600' },
  },
});
const secret = process.env.JWT_HS256_SECRET || 'development-only-jwt-secret-do-not-use-in-prod';
const now = Math.floor(Date.now() / 1000);
const claims = { scope: values.scope };
if (values.service) claims.client_id = values.sub;
if (values.mfa) Object.assign(claims, { amr: ['pwd', 'mfa'], auth_time: now });
const token = await new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(values.sub)
  .setIssuer(process.env.JWT_ISSUER ?? 'https://auth.example.internal/')
  .setAudience(process.env.JWT_AUDIENCE ?? 'account-deletion')
  .setIssuedAt(now)
  .setExpirationTime(now + Number(values.ttl))
  .sign(new TextEncoder().encode(secret));
console.log(token);
