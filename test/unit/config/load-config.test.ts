import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';

/** A production environment with every secret but the pseudonym key. */
const productionWithoutPseudonyms = {
  DELETION_ENV: 'production',
  MONGODB_URI: 'mongodb://db.internal:27017',
  OTP_SECRET: 'x'.repeat(32),
  NOTIFIER: 'smtp',
  SMTP_URL: 'smtp://mail:25',
  JWT_JWKS_URL: 'https://idp.internal/jwks.json',
  REPORT_SIGNING_KEY: 'a key',
  AUDIT_KEY: 'z'.repeat(32),
  DATA_KEK: 'k'.repeat(32),
} as const;

describe('loadConfig', () => {
  it('fails safe: an empty environment is production and refuses to start', () => {
    expect(() => loadConfig({})).toThrow(/OTP_SECRET/);
  });

  it('requires MONGODB_URI in production: an embedded database is for development', () => {
    const full = {
      ...productionWithoutPseudonyms,
      MONGODB_URI: undefined,
      PSEUDONYM_SECRET: 'p'.repeat(32),
    };
    expect(() => loadConfig(full)).toThrow(/MONGODB_URI: required in production/);
    expect(loadConfig({ ...full, MONGODB_URI: 'mongodb://db.internal:27017' }).MONGODB_URI).toBe(
      'mongodb://db.internal:27017',
    );
  });

  it('starts with development defaults when asked for development', () => {
    const config = loadConfig({ DELETION_ENV: 'development' });
    expect(config).toMatchObject({
      GRPC_PORT: 50051,
      HTTP_PORT: 8080,
      GRPC_HOST: '127.0.0.1',
      GRACE_PERIOD_SECONDS: 2_592_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the legal clocks, GDPR one month + two and CCPA 45 days + 45 by default', () => {
    const dev = { DELETION_ENV: 'development' };
    expect(loadConfig(dev).LEGAL_CLOCKS.CCPA).toEqual({
      deadline: { days: 45 },
      extension: { days: 45 },
    });
    expect(loadConfig({ ...dev, LEGAL_CLOCKS: 'GDPR=1M+1M' }).LEGAL_CLOCKS.GDPR.extension).toEqual({
      months: 1,
    });
    expect(() => loadConfig({ ...dev, LEGAL_CLOCKS: 'GDPR=30' })).toThrow(/LEGAL_CLOCKS/);
  });

  it('names the variable that is wrong', () => {
    const dev = { DELETION_ENV: 'development' };
    expect(() => loadConfig({ ...dev, GRPC_PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...dev, GRPC_PORT: 'abc' })).toThrow(/GRPC_PORT/);
    expect(() => loadConfig({ ...dev, OTP_DIGITS: '4' })).toThrow(/OTP_DIGITS/);
  });

  it('reads the previous report keys, and refuses ones that are not Ed25519 public keys', () => {
    const dev = { DELETION_ENV: 'development' };
    const publicKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const validUntil = '2026-12-01T00:00:00Z';
    expect(
      loadConfig({ ...dev, REPORT_PREVIOUS_KEYS: JSON.stringify([{ publicKey, validUntil }]) })
        .REPORT_PREVIOUS_KEYS,
    ).toEqual([{ publicKey, validUntil }]);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const wrong of [
      'not json',
      JSON.stringify([{ publicKey: rsa, validUntil }]),
      JSON.stringify([{ publicKey }]),
      JSON.stringify([{ publicKey, validUntil: 'yesterday' }]),
    ])
      expect(() => loadConfig({ ...dev, REPORT_PREVIOUS_KEYS: wrong })).toThrow(
        /REPORT_PREVIOUS_KEYS/,
      );
  });

  it('refuses development-only settings in production', () => {
    expect(() => loadConfig({ DELETION_ENV: 'production' })).toThrow(
      /OTP_SECRET[\s\S]*NOTIFIER[\s\S]*AUDIT_KEY[\s\S]*DATA_KEK[\s\S]*JWT_JWKS_URL/,
    );
    expect(() =>
      loadConfig({
        DELETION_ENV: 'production',
        OTP_SECRET: 'x'.repeat(32),
        NOTIFIER: 'smtp',
        SMTP_URL: 'smtp://mail:25',
        JWT_JWKS_URL: 'https://idp.internal/jwks.json',
        JWT_HS256_SECRET: 'y'.repeat(32),
        SEED_DEMO: 'true',
      }),
    ).toThrow(/JWT_HS256_SECRET[\s\S]*SEED_DEMO/);
  });

  it('keeps the subject keys in a database apart from the data, by default <MONGODB_DB>_keys', () => {
    const dev = { DELETION_ENV: 'development', MONGODB_DB: 'deletions' };
    expect(loadConfig(dev)).toMatchObject({ KEY_VAULT_DB: 'deletions_keys' });
    expect(loadConfig({ ...dev, KEY_VAULT_DB: 'vault' })).toMatchObject({ KEY_VAULT_DB: 'vault' });
    expect(() => loadConfig({ ...dev, KEY_VAULT_DB: 'deletions' })).toThrow(
      /KEY_VAULT_DB: must not be MONGODB_DB/,
    );
    expect(() => loadConfig({ ...dev, DATA_KEK: 'short' })).toThrow(/DATA_KEK/);
  });

  it('takes a notice channel whole or not at all, over HTTPS in production', () => {
    const dev = { DELETION_ENV: 'development' };
    const sms = {
      SMS_API_URL: 'https://sms.example.test',
      SMS_ACCOUNT: 'AC1',
      SMS_TOKEN: 't',
      SMS_FROM: '+4930000000',
    };
    const push = {
      PUSH_WEBHOOK_URL: 'https://push.internal/notify',
      PUSH_WEBHOOK_SECRET: 's'.repeat(32),
    };
    expect(loadConfig({ ...dev, ...sms, ...push })).toMatchObject({ ...sms, ...push });
    expect(() => loadConfig({ ...dev, ...sms, SMS_TOKEN: undefined })).toThrow(
      /SMS_ACCOUNT, SMS_TOKEN, SMS_FROM: required with SMS_API_URL/,
    );
    expect(() => loadConfig({ ...dev, SMS_FROM: '+4930000000' })).toThrow(
      /SMS_API_URL: required with/,
    );
    expect(() => loadConfig({ ...dev, PUSH_WEBHOOK_URL: push.PUSH_WEBHOOK_URL })).toThrow(
      /PUSH_WEBHOOK_URL, PUSH_WEBHOOK_SECRET: set both or neither/,
    );
    expect(() => loadConfig({ ...dev, ...push, PUSH_WEBHOOK_SECRET: 'short' })).toThrow(
      /PUSH_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ ...dev, NOTICE_REPORT_URL: 'https://privacy.test/r' })).toThrow(
      /NOTICE_REPORT_URL: must contain \{request\}/,
    );
    expect(() =>
      loadConfig({ ...dev, NOTICE_REPORT_URL: 'javascript:alert(1)//{request}' }),
    ).toThrow(/NOTICE_REPORT_URL/);
    const production = { ...productionWithoutPseudonyms, PSEUDONYM_SECRET: 'p'.repeat(32) };
    expect(loadConfig({ ...production, ...sms, ...push }).PUSH_WEBHOOK_URL).toBe(
      push.PUSH_WEBHOOK_URL,
    );
    expect(() =>
      loadConfig({
        ...production,
        ...sms,
        ...push,
        SMS_API_URL: 'http://sms.example.test',
        PUSH_WEBHOOK_URL: 'http://push.internal/notify',
        NOTICE_REPORT_URL: 'http://privacy.test/{request}',
      }),
    ).toThrow(
      /PUSH_WEBHOOK_URL: must be https:\/\/ in production[\s\S]*SMS_API_URL: must be https[\s\S]*NOTICE_REPORT_URL: must be https/,
    );
  });

  it('takes an owner’s alert webhook over HTTPS only in production', () => {
    const registration = (webhook: string) =>
      JSON.stringify([
        { name: 'billing', address: 'billing:443', owner: { team: 'payments', webhook } },
      ]);
    const production = { ...productionWithoutPseudonyms, PSEUDONYM_SECRET: 'p'.repeat(32) };
    expect(
      loadConfig({ ...production, PARTICIPANTS: registration('https://hooks.internal/a') })
        .PARTICIPANTS[0]?.owner,
    ).toEqual({ team: 'payments', webhook: 'https://hooks.internal/a' });
    expect(() =>
      loadConfig({ ...production, PARTICIPANTS: registration('http://hooks.internal/a') }),
    ).toThrow(/PARTICIPANTS: billing's owner.webhook must be https:\/\/ in production/);
    expect(
      loadConfig({
        DELETION_ENV: 'development',
        PARTICIPANTS: registration('http://127.0.0.1:9/a'),
      }).PARTICIPANTS,
    ).toHaveLength(1);
  });

  it('requires a pseudonym key in production (the audit log and the ledger name subjects by it)', () => {
    const production = productionWithoutPseudonyms;
    const pseudonymous = JSON.stringify([
      { name: 'analytics', address: 'analytics:443', subjectId: 'pseudonym' },
    ]);
    expect(() => loadConfig(production)).toThrow(/PSEUDONYM_SECRET: required in production/);
    expect(() => loadConfig({ ...production, PARTICIPANTS: pseudonymous })).toThrow(
      /PSEUDONYM_SECRET: required in production/,
    );
    expect(loadConfig({ ...production, PSEUDONYM_SECRET: 'p'.repeat(32) }).PARTICIPANTS).toEqual(
      [],
    );
    expect(
      loadConfig({ ...production, PARTICIPANTS: pseudonymous, PSEUDONYM_SECRET: 'p'.repeat(32) })
        .PARTICIPANTS[0]?.subjectId,
    ).toBe('pseudonym');
  });

  it('requires SMTP_URL for the smtp notifier', () => {
    expect(() => loadConfig({ DELETION_ENV: 'development', NOTIFIER: 'smtp' })).toThrow(/SMTP_URL/);
  });

  it('reads linked services from PARTICIPANTS and refuses a bad registry', () => {
    const dev = { DELETION_ENV: 'development' };
    const one = { name: 'billing', address: '127.0.0.1:7001' };
    expect(loadConfig({ ...dev, PARTICIPANTS: JSON.stringify([one]) }).PARTICIPANTS).toEqual([
      {
        ...one,
        tls: null,
        timeoutMs: 5000,
        maxAttempts: 8,
        phases: ['suspend', 'restore', 'erase'],
        after: [],
        identity: 'billing',
        subjectId: 'real',
        categories: [],
      },
    ]);
    expect(() => loadConfig({ ...dev, PARTICIPANTS: 'not json' })).toThrow(/PARTICIPANTS/);
    expect(() => loadConfig({ ...dev, PARTICIPANTS: JSON.stringify([one, one]) })).toThrow(
      /registered twice/,
    );
    expect(() =>
      loadConfig({ ...dev, PARTICIPANTS: JSON.stringify([{ ...one, after: ['crm'] }]) }),
    ).toThrow(/unknown "crm"/);
    const cyclic = [
      { name: 'a', address: 'x:1', after: ['b'] },
      { name: 'b', address: 'x:2', after: ['a'] },
    ];
    expect(() => loadConfig({ ...dev, PARTICIPANTS: JSON.stringify(cyclic) })).toThrow(
      /cycle: a -> b -> a/,
    );
    expect(() =>
      loadConfig({ ...dev, PARTICIPANTS: JSON.stringify([{ ...one, name: 'Bad.Name' }]) }),
    ).toThrow(/PARTICIPANTS/);
  });

  const tlsOf = (tls: unknown) =>
    loadConfig({
      DELETION_ENV: 'development',
      PARTICIPANTS: JSON.stringify([{ name: 'billing', address: '10.0.0.5:7001', tls }]),
    }).PARTICIPANTS[0]?.tls;

  it('reads the TLS of a linked service as plaintext (false), system CAs (true) or PEM files', () => {
    expect(tlsOf(false)).toBeNull();
    expect(tlsOf(true)).toEqual({});
    const files = {
      caFile: '/etc/deletion/participants-ca.pem',
      certFile: '/etc/deletion/client.pem',
      keyFile: '/etc/deletion/client.key',
      serverName: 'billing.internal',
    };
    expect(tlsOf(files)).toEqual(files);
    expect(tlsOf({ caFile: files.caFile })).toEqual({ caFile: files.caFile });
  });

  it('refuses a client certificate without its key, and unknown TLS settings', () => {
    expect(() => tlsOf({ certFile: '/etc/deletion/client.pem' })).toThrow(
      /PARTICIPANTS\.0\.tls: certFile and keyFile go together/,
    );
    expect(() => tlsOf({ keyFile: '/etc/deletion/client.key' })).toThrow(
      /certFile and keyFile go together/,
    );
    expect(() => tlsOf({ caFile: '/etc/deletion/ca.pem', verify: false })).toThrow(/"verify"/);
    expect(() => tlsOf('yes')).toThrow(/PARTICIPANTS\.0\.tls/);
  });
});
