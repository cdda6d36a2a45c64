import { describe, expect, inject, it } from 'vitest';
import { startMain } from '../support/main-process.js';

/**
 * The production entry (`src/main.ts`, built to `dist/main.js`) brings no
 * development piece: no embedded database, no dev mailbox, no demo data
 * (dependency-cruiser's `production-never-imports-development` holds the
 * imports; these hold the behaviour).
 */
describe('the production entry', () => {
  it('refuses to start without MONGODB_URI, pointing to the development start', async () => {
    const main = startMain({}, ['MONGODB_URI']);
    expect(await main.exited).toBe(1);
    expect(main.stderr()).toContain('MONGODB_URI: required');
    expect(main.stderr()).toContain('npm start');
    expect(main.lines.some((line) => typeof line.httpPort === 'number')).toBe(false);
  });

  it('has no dev mailbox to send notices to, nor demo data to seed', async () => {
    const mailbox = startMain({ MONGODB_URI: inject('mongoUri'), NOTIFIER: 'dev-mailbox' });
    expect(await mailbox.exited).toBe(1);
    expect(mailbox.stderr()).toContain('NOTIFIER: dev-mailbox needs the development start');
    const demo = startMain({ MONGODB_URI: inject('mongoUri'), SEED_DEMO: 'true' });
    expect(await demo.exited).toBe(1);
    expect(demo.stderr()).toContain('SEED_DEMO: demo data needs the development start');
  });
});
