// Mints a development token for `npm start` (HS256 with the development secret;
// production refuses HS256). Usage:
//   npm run token -- --sub alice --scope deletion:self
//   npm run token -- --sub support-backend --scope "deletion:request deletion:read" --service
//   npm run token -- --sub alice --scope deletion:self --mfa      (a fresh step-up token)
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';

const usage = `Usage: npm run -s token -- [--sub <id>] [--scope "<scopes>"] [--service] [--mfa] [--ttl <seconds>]

Prints a development bearer token for \`npm start\` (HS256 with the development secret,
$JWT_HS256_SECRET if set; production refuses HS256 tokens).

  --sub <id>         the subject or client id (default alice)
  --scope "<list>"   space-separated scopes (default deletion:self); the others:
                     deletion:request deletion:read deletion:approve deletion:admin
                     deletion:participant
  --service          a service's token (client_id = sub), not a person's
  --mfa              a fresh step-up login (amr pwd+mfa, auth_time now)
  --ttl <seconds>    lifetime, a positive whole number (default 3600)
  -h, --help         this text`;

const fail = (message) => {
  console.error(`token: ${message}\n\n${usage}`);
  process.exit(2);
};

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string', default: 'alice' },
      scope: { type: 'string', default: 'deletion:self' },
      service: { type: 'boolean', default: false },
      mfa: { type: 'boolean', default: false },
      ttl: { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const ttl = Number(values.ttl);
if (!/^[0-9]+$/.test(values.ttl) || !Number.isSafeInteger(ttl) || ttl <= 0)
  fail(`--ttl must be a positive whole number of seconds, not ${JSON.stringify(values.ttl)}`);
if (values.sub.trim() === '') fail('--sub must not be empty');

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
  .setExpirationTime(now + ttl)
  .sign(new TextEncoder().encode(secret));
console.log(token);
