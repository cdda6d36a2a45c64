import type { PeerCertificate } from 'node:tls';
import type { Principal, Scope } from '../domain/principal.js';
import { unauthenticated, type Authenticator } from './authenticator.js';

/** One allow-listed certificate identity and the service principal it stands for. */
export interface ClientPrincipal {
  readonly identity: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
}

/** `TYPE:value` entries of Node's `subjectaltname`; a value with special characters is a JSON string. */
const SAN_ENTRY = /^([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,"]*)(?:, |$)/;

/**
 * The names of Node's `subjectaltname` string, by type. Parsed strictly: a
 * string that does not parse gives null, so a crafted SAN can never smuggle in
 * a second name.
 */
const subjectAltNames = (text: string): { type: string; value: string }[] | null => {
  const names: { type: string; value: string }[] = [];
  let rest = text;
  while (rest !== '') {
    const match = SAN_ENTRY.exec(rest);
    if (match?.[1] === undefined || match[2] === undefined) return null;
    const raw = match[2];
    names.push({ type: match[1], value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
    rest = rest.slice(match[0].length);
  }
  return names;
};

/**
 * The identities a verified client certificate names, strongest first: its
 * URI SANs (SPIFFE ids), then its DNS SANs; its subject CN only when it has
 * neither (as RFC 6125 does for server names); none when its SANs do not parse.
 */
export const certificateIdentities = (certificate: PeerCertificate): string[] => {
  const names = subjectAltNames(certificate.subjectaltname ?? '');
  if (names === null) return [];
  const sans = ['URI', 'DNS'].flatMap((type) =>
    names.filter((name) => name.type === type).map((name) => name.value),
  );
  if (sans.length > 0) return sans;
  const cn: unknown = certificate.subject.CN;
  return typeof cn === 'string' && cn !== '' ? [cn] : [];
};

const principalOf = (entry: ClientPrincipal): Principal => ({
  actor: { kind: 'SERVICE', id: entry.principal },
  scopes: new Set(entry.scopes),
  ownSubjectId: null,
  authTime: null,
  amr: [],
});

/**
 * Mutual TLS on top of `authenticate`: the connection's client certificate
 * must name an allow-listed identity (otherwise UNAUTHENTICATED, with the same
 * answer as a bad token, and nothing runs). The certificate gates; the call's
 * principal is the token's (or API key's) when one is sent, so a service can
 * still act for a user, and a bad token never falls back to the certificate;
 * without one it is the certificate's service principal with its configured
 * scopes.
 */
export const gateByClientCertificate = (
  allowList: readonly ClientPrincipal[],
  authenticate: Authenticator,
): Authenticator => {
  const byIdentity = new Map(allowList.map((entry) => [entry.identity, entry]));
  return async (credentials) => {
    const identities =
      credentials.clientCertificate === undefined
        ? []
        : certificateIdentities(credentials.clientCertificate);
    const entry = identities
      .map((identity) => byIdentity.get(identity))
      .find((found) => found !== undefined);
    if (entry === undefined) {
      throw unauthenticated(
        credentials.clientCertificate === undefined ? 'MISSING_CREDENTIALS' : 'INVALID_CREDENTIALS',
      );
    }
    if (credentials.authorization || credentials.apiKey) return authenticate(credentials);
    return principalOf(entry);
  };
};
