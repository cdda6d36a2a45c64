import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';

const dev = { DELETION_ENV: 'development' } as const;
const serverTls = {
  GRPC_TLS_CERT_FILE: '/etc/tls/server.pem',
  GRPC_TLS_KEY_FILE: '/etc/tls/server.key',
};
const billing = { identity: 'spiffe://example.internal/billing', principal: 'billing' };
const mtls = {
  ...serverTls,
  GRPC_CLIENT_CA_FILE: '/etc/tls/clients-ca.pem',
  GRPC_CLIENT_PRINCIPALS: JSON.stringify([{ ...billing, scopes: ['deletion:participant'] }]),
};

describe('gRPC TLS configuration', () => {
  it('is plaintext by default, TLS with a certificate and key, mutual TLS with client CAs', () => {
    const plain = loadConfig(dev);
    expect([
      plain.GRPC_TLS_CERT_FILE,
      plain.GRPC_CLIENT_CA_FILE,
      plain.GRPC_CLIENT_PRINCIPALS,
    ]).toEqual([undefined, undefined, undefined]);
    expect(loadConfig({ ...dev, ...serverTls })).toMatchObject(serverTls);
    expect(loadConfig({ ...dev, ...mtls }).GRPC_CLIENT_PRINCIPALS).toEqual([
      { ...billing, scopes: ['deletion:participant'] },
    ]);
    const gateOnly = { ...mtls, GRPC_CLIENT_PRINCIPALS: JSON.stringify([billing]) };
    expect(loadConfig({ ...dev, ...gateOnly }).GRPC_CLIENT_PRINCIPALS).toEqual([
      { ...billing, scopes: [] },
    ]);
  });

  it('refuses inconsistent settings, naming the variable', () => {
    const refused = (env: Record<string, string>, message: RegExp) => {
      expect(() => loadConfig({ ...dev, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ ...dev, ...env })).toThrow(message);
    };
    refused({ GRPC_TLS_CERT_FILE: '/etc/tls/server.pem' }, /GRPC_TLS_KEY_FILE: set both/);
    refused({ GRPC_TLS_KEY_FILE: '/etc/tls/server.key' }, /GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE/);
    refused(
      {
        GRPC_CLIENT_CA_FILE: mtls.GRPC_CLIENT_CA_FILE,
        GRPC_CLIENT_PRINCIPALS: mtls.GRPC_CLIENT_PRINCIPALS,
      },
      /GRPC_CLIENT_CA_FILE: needs GRPC_TLS_CERT_FILE/,
    );
    refused(
      { ...serverTls, GRPC_CLIENT_CA_FILE: mtls.GRPC_CLIENT_CA_FILE },
      /GRPC_CLIENT_PRINCIPALS: required/,
    );
    refused(
      { ...serverTls, GRPC_CLIENT_PRINCIPALS: mtls.GRPC_CLIENT_PRINCIPALS },
      /GRPC_CLIENT_PRINCIPALS: needs GRPC_CLIENT_CA_FILE/,
    );
  });

  it('validates the allow-list', () => {
    const principals = (value: unknown) =>
      loadConfig({ ...dev, ...mtls, GRPC_CLIENT_PRINCIPALS: JSON.stringify(value) });
    expect(() => loadConfig({ ...dev, ...mtls, GRPC_CLIENT_PRINCIPALS: 'not json' })).toThrow(
      /GRPC_CLIENT_PRINCIPALS: must be a JSON array/,
    );
    expect(() => principals([])).toThrow(/GRPC_CLIENT_PRINCIPALS/);
    expect(() => principals([billing, { ...billing, principal: 'crm' }])).toThrow(
      /an identity is listed twice/,
    );
    expect(() => principals([{ ...billing, scopes: ['deletion:everything'] }])).toThrow(
      /GRPC_CLIENT_PRINCIPALS\.0\.scopes/,
    );
    expect(() => principals([{ ...billing, scopes: ['deletion:self'] }])).toThrow(
      /GRPC_CLIENT_PRINCIPALS\.0\.scopes/,
    );
    expect(() => principals([{ ...billing, principal: '' }])).toThrow(
      /GRPC_CLIENT_PRINCIPALS\.0\.principal/,
    );
    expect(() => principals([{ ...billing, admin: true }])).toThrow(/"admin"/);
  });
});
