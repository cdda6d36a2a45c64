import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/config-schema.js';
import { configReference } from '../../../scripts/config-reference.js';

const committed = () =>
  readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  it('is what the schema generates (else run `npm run docs:config`)', async () => {
    expect(
      committed(),
      'docs/configuration.md is stale: run `npm run docs:config` and commit the result',
    ).toBe(await configReference());
  });

  it('has one row per setting, in schema order, each with its description', async () => {
    const generated = await configReference();
    const rows = generated
      .split('\n')
      .map((line) => /^\| `([A-Z][A-Z0-9_]*)` +\|/.exec(line)?.[1])
      .filter((name) => name !== undefined);
    expect(rows).toEqual(Object.keys(configSchema.shape));
    for (const field of Object.values(configSchema.shape)) expect(field.description).toBeTruthy();
  });

  it('shows defaults as they are written in the environment', async () => {
    const generated = await configReference();
    expect(generated).toMatch(/^\| `GRPC_PORT` +\| `50051` +\|/m);
    expect(generated).toMatch(/^\| `RISK_PRIVILEGED_ROLES` +\| `admin,owner` +\|/m);
    expect(generated).toMatch(/^\| `PARTICIPANTS` +\| `\[\]` +\|/m);
    expect(generated).toMatch(/^\| `MONGODB_URI` +\| — +\|/m);
  });
});
