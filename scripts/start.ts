// `npm start`: the service's development entry as built in dist/ (dev/main.js:
// an embedded database, demo data, the dev mailbox) and, in development when no
// PARTICIPANTS are configured, the three example linked services (billing,
// messaging, analytics) registered as its participants, so a deletion shows a
// full fan-out. EXAMPLE_SERVICES=false starts the service alone.
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config/load-config.js';
import { startLinkedServices } from '../examples/linked-services/start-linked-services.js';

const EXAMPLE_PORTS = [50061, 50062, 50063] as const;

const withExamples =
  process.env.DELETION_ENV === 'development' &&
  process.env.PARTICIPANTS === undefined &&
  process.env.EXAMPLE_SERVICES !== 'false';

if (withExamples) {
  const config = loadConfig(process.env);
  const secret = new TextEncoder().encode(config.JWT_HS256_SECRET ?? '');
  /** Analytics reports as itself: a client-credentials token of `analytics`. */
  const token = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'deletion:participant', client_id: 'analytics' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('analytics')
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(secret);
  };
  const examples = await startLinkedServices({
    host: '127.0.0.1',
    ports: EXAMPLE_PORTS,
    subjects: ['alice', 'bob', 'carla'],
    deletionService: `${config.GRPC_HOST}:${String(config.GRPC_PORT)}`,
    token,
  });
  process.env.PARTICIPANTS = JSON.stringify(examples.participants);
  console.log(
    `example linked services: ${examples.participants.map((p) => `${p.name} ${p.address}`).join(', ')}`,
  );
}

await import(new URL('../dist/dev/main.js', import.meta.url).href);
