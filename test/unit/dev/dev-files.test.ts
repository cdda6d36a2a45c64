import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createEd25519ReportSigner } from '../../../src/crypto/ed25519-report-signer.js';
import {
  CREDENTIALS_FILE,
  developmentSigningKey,
  SIGNING_KEY_FILE,
  writeDevelopmentCredentials,
} from '../../../src/dev/dev-files.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'dev-files-'));

describe('what npm start keeps under its data directory', () => {
  it('keeps one report signing key across restarts, readable by its owner only', async () => {
    const dataDir = freshDir();
    const first = await developmentSigningKey(dataDir);
    const again = await developmentSigningKey(dataDir);
    expect(again).toBe(first);
    expect(statSync(join(dataDir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    // A report signed before the restart verifies with the key after it.
    const before = createEd25519ReportSigner(first);
    const after = createEd25519ReportSigner(again);
    expect(after.keyId).toBe(before.keyId);
    expect(await developmentSigningKey(freshDir())).not.toBe(first);
  });

  it('writes an operator token for the service it listens as, readable by its owner only', async () => {
    const dataDir = freshDir();
    const secret = 'development-only-jwt-secret-for-this-test';
    const config = {
      DATA_DIR: dataDir,
      GRPC_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      JWT_HS256_SECRET: secret,
      JWT_ISSUER: 'https://issuer.test/',
      JWT_AUDIENCE: 'account-deletion',
    };
    const path = await writeDevelopmentCredentials(config, { grpcPort: 50061, httpPort: 8081 });
    expect(path).toBe(join(dataDir, CREDENTIALS_FILE));
    expect(statSync(path!).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(path!, 'utf8')) as Record<string, string>;
    expect(written).toMatchObject({ address: '127.0.0.1:50061', httpUrl: 'http://127.0.0.1:8081' });
    const { payload } = await jwtVerify(written.token!, new TextEncoder().encode(secret), {
      issuer: 'https://issuer.test/',
      audience: 'account-deletion',
    });
    expect(payload).toMatchObject({ sub: 'dev-operator' });
    expect(String(payload.scope).split(' ')).toContain('deletion:admin');
    expect(String(payload.scope)).not.toContain('deletion:self');
    // With keys configured instead of the development secret, there is nothing to write.
    expect(
      await writeDevelopmentCredentials(
        { ...config, JWT_HS256_SECRET: undefined },
        { grpcPort: 1, httpPort: 2 },
      ),
    ).toBeUndefined();
  });
});
