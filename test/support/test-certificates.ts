import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as PEM files on disk and as their text. */
export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/** A throw-away PKI for TLS tests, in a temporary folder removed on dispose. */
export interface TestCertificates extends Disposable {
  readonly dir: string;
  /** The CA every other certificate here is signed by (except the `unrelated*` ones). */
  readonly ca: TestCertificate;
  /** A server certificate for 127.0.0.1 and localhost. */
  readonly server: TestCertificate;
  /** A server certificate for `billing.internal` only (reached by IP with a server name). */
  readonly namedServer: TestCertificate;
  /** A client certificate (mutual TLS). */
  readonly client: TestCertificate;
  /** A client certificate naming the service `spiffe://example.internal/support-backend` (URI SAN). */
  readonly serviceClient: TestCertificate;
  /** A client certificate signed by `ca` naming `spiffe://example.internal/stranger`. */
  readonly strangerClient: TestCertificate;
  /** A second CA that has nothing to do with `ca`. */
  readonly unrelatedCa: TestCertificate;
  /** A server certificate for 127.0.0.1 and localhost, signed by `unrelatedCa`. */
  readonly unrelatedServer: TestCertificate;
  /** A client certificate signed by `unrelatedCa`. */
  readonly unrelatedClient: TestCertificate;
}

const openssl = (args: readonly string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** One P-256 certificate, self-signed (a CA) or signed by `issuer`, valid for a day. */
const issue = (
  dir: string,
  name: string,
  spec: { readonly issuer?: TestCertificate; readonly extensions: readonly string[] },
): TestCertificate => {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const signer = spec.issuer ? ['-CA', spec.issuer.certFile, '-CAkey', spec.issuer.keyFile] : [];
  openssl([
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${name}`],
    ...signer,
    ...spec.extensions.flatMap((extension) => ['-addext', extension]),
  ]);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
};

const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
const LEAF = ['basicConstraints=critical,CA:FALSE'];
const LOOPBACK = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
const SPIFFE = 'spiffe://example.internal';

/** Makes the certificates with the system's `openssl` (OpenSSL 3: `req -x509 -CA`). */
export const createTestCertificates = (): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), 'participant-tls-'));
  const server = [...LEAF, 'extendedKeyUsage=serverAuth'];
  const client = [...LEAF, 'extendedKeyUsage=clientAuth'];
  const ca = issue(dir, 'ca', { extensions: CA });
  const unrelatedCa = issue(dir, 'unrelated-ca', { extensions: CA });
  return {
    dir,
    ca,
    server: issue(dir, 'server', { issuer: ca, extensions: [...server, LOOPBACK] }),
    namedServer: issue(dir, 'named-server', {
      issuer: ca,
      extensions: [...server, 'subjectAltName=DNS:billing.internal'],
    }),
    client: issue(dir, 'client', { issuer: ca, extensions: client }),
    serviceClient: issue(dir, 'support-backend', {
      issuer: ca,
      extensions: [...client, `subjectAltName=URI:${SPIFFE}/support-backend`],
    }),
    strangerClient: issue(dir, 'stranger', {
      issuer: ca,
      extensions: [...client, `subjectAltName=URI:${SPIFFE}/stranger`],
    }),
    unrelatedCa,
    unrelatedServer: issue(dir, 'unrelated-server', {
      issuer: unrelatedCa,
      extensions: [...server, LOOPBACK],
    }),
    unrelatedClient: issue(dir, 'unrelated-client', { issuer: unrelatedCa, extensions: client }),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
};
