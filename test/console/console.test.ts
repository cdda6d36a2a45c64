import { copyFile, mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startFakeParticipant, type FakeParticipant } from '../support/fake-participant.js';
import { adminAuth } from '../support/principals.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

/** Debian's Chromium; elsewhere, say where one is. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Every screenshot is kept here (a test artifact); `CONSOLE_SCREENSHOTS=docs` also refreshes docs/console. */
const ARTIFACTS = 'test-results/console';
const DOCS = 'docs/console';

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in a container Chromium needs its sandbox off; the pages are our own.
    args: ['--no-sandbox'],
  });
  await mkdir(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser.close();
});

/** A signed-in console: its page, and what the browser complained about (a CSP refusal, a script error). */
interface Session {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly complaints: string[];
}

const signIn = async (t: TestApp, credential: string): Promise<Session> => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const complaints: string[] = [];
  page.on('console', (message) => {
    // A refused call (403 of a screen the viewer may not read) is logged by the browser too.
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text()))
      complaints.push(message.text());
  });
  page.on('pageerror', (error) => complaints.push(error.message));
  await page.goto(`http://127.0.0.1:${String(t.ports.http)}/console`);
  await page.getByLabel('Token or API key').fill(credential);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Screens' }).waitFor();
  return { page, context, complaints };
};

/** The screens docs/console shows, one each (the other screenshots are test artifacts only). */
const DOCUMENTED = new Set([
  'queue',
  'request-completed',
  'audit',
  'safety-tripped',
  'deadlines',
  'linked-services',
]);

const screenshot = async (page: Page, name: string): Promise<void> => {
  const file = `${ARTIFACTS}/${name}.png`;
  // The audit log grows with every test: its first screenful says what it is.
  await page.screenshot({ path: file, fullPage: name !== 'audit' });
  if (process.env.CONSOLE_SCREENSHOTS === 'docs' && DOCUMENTED.has(name)) {
    await mkdir(DOCS, { recursive: true });
    await copyFile(file, `${DOCS}/${name}.png`);
  }
};

const stateOf = async (t: TestApp, id: string) =>
  (await t.app.deps.requests.findById(id as never))?.state;

/** Runs worker passes (the test clock moving past each retry) until the request is in `state`. */
const passUntil = async (t: TestApp, id: string, state: string): Promise<void> => {
  for (let pass = 0; pass < 12 && (await stateOf(t, id)) !== state; pass += 1) {
    await t.app.runWorkerPass();
    t.clock.advance(30_000);
  }
  expect(await stateOf(t, id)).toBe(state);
};

describe('the operations console in Chromium', () => {
  let t: TestApp;
  let crm: FakeParticipant;
  let billing: FakeParticipant;
  beforeAll(async () => {
    crm = await startFakeParticipant('crm');
    billing = await startFakeParticipant('billing');
    const participants = [
      {
        name: crm.name,
        address: crm.address,
        maxAttempts: 2,
        categories: ['profile', 'support-tickets'],
        owner: { team: 'team-crm' },
      },
      {
        name: billing.name,
        address: billing.address,
        maxAttempts: 2,
        categories: ['invoices', 'payment-methods'],
        owner: { team: 'team-billing' },
        legalBasis: 'tax law: invoices kept 10 years',
      },
    ];
    t = await startTestApp({
      PARTICIPANTS: JSON.stringify(participants),
      RISK_PRIVILEGED_ROLES: 'admin',
    });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
    await crm[Symbol.asyncDispose]();
    await billing[Symbol.asyncDispose]();
  });

  it('lets an approver approve a request another person made, and explains four-eyes to its requester', async () => {
    const risky = await t.scheduled({ prefix: 'risky', roles: ['admin'] });
    expect(await stateOf(t, risky.id)).toBe('AWAITING_APPROVAL');
    await t.scheduled({ prefix: 'plain' });

    const approver = await signIn(
      t,
      await mintToken({ sub: 'approver-ada', scope: 'deletion:approve deletion:read' }),
    );
    const { page } = approver;
    const counts = page.getByRole('list', { name: 'Requests by state' });
    await counts.getByRole('link', { name: 'AWAITING APPROVAL 1' }).waitFor();
    await counts.getByRole('link', { name: 'SCHEDULED 1' }).waitFor();
    await page.getByLabel('State', { exact: true }).selectOption('AWAITING_APPROVAL');
    await page.getByRole('link', { name: risky.id }).waitFor();
    expect(await page.getByRole('row').count()).toBe(2);
    await screenshot(page, 'queue');
    await page.getByRole('link', { name: risky.id }).click();
    await page.getByRole('heading', { name: new RegExp(`Request ${risky.id}`) }).waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading').filter({ hasText: 'SCHEDULED' }).waitFor();
    await screenshot(page, 'request-approved');
    const approved = await t.app.deps.requests.findById(risky.id);
    expect(approved).toMatchObject({ state: 'SCHEDULED', reviewer: { id: 'approver-ada' } });

    // Nothing a script could read holds the credential: no storage, no readable cookie, no URL.
    const kept: unknown = await page.evaluate(
      '({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })',
    );
    expect(kept).toEqual({ local: 0, session: 0, cookie: '' });
    expect(page.url()).not.toMatch(/token|eyJ/);
    expect(approver.complaints).toEqual([]);
    // The browser enforces the CSP: a script written into the page does not run.
    await page.addScriptTag({ content: 'window.inlineRan = true' }).catch(() => undefined);
    expect(await page.evaluate('window.inlineRan === true')).toBe(false);
    expect(approver.complaints.join('\n')).toMatch(/Content Security Policy|TrustedScript/);
    // And refuses to show the console inside another site's frame.
    const framing = await approver.context.newPage();
    // setContent waits for the page's load event, which waits for its frame.
    await framing.setContent(
      `<iframe src="http://127.0.0.1:${String(t.ports.http)}/console" width="800" height="600"></iframe>`,
      { waitUntil: 'load' },
    );
    const framed = framing.frames().find((frame) => frame.url().includes('/console'));
    const shown = framed === undefined ? 0 : await framed.locator('#root').count();
    expect(shown).toBe(0);
    await approver.context.close();

    // The subject, also an approver, is told why they cannot approve their own request.
    const own = await t.scheduled({ prefix: 'own', roles: ['admin'] });
    const requester = await signIn(
      t,
      await mintToken({ sub: own.subjectId, scope: 'deletion:approve deletion:read' }),
    );
    await requester.page.goto(
      `http://127.0.0.1:${String(t.ports.http)}/console/requests/${own.id}`,
    );
    await requester.page.getByText('Four eyes: another person must review').waitFor();
    expect(await requester.page.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(requester.complaints).toEqual([]);
    await requester.context.close();
  });

  it('shows a linked service failing, lets an administrator resolve it, and follows the request to its verified report', async () => {
    billing.behaviour = { failFirst: 1000 };
    const stuck = await t.scheduled({ prefix: 'stuck' });
    await passUntil(t, stuck.id, 'NEEDS_ATTENTION');

    const admin = await signIn(t, (await adminAuth('admin-cy')).token);
    const { page } = admin;
    await page.goto(`http://127.0.0.1:${String(t.ports.http)}/console/requests/${stuck.id}`);
    await page.getByRole('heading').filter({ hasText: 'NEEDS ATTENTION' }).waitFor();
    const billingRow = page.getByRole('row').filter({ hasText: 'billing' });
    await billingRow.getByText('FAILED').waitFor();
    await page.getByText('live', { exact: true }).waitFor();
    await page.getByText('Alert to team-billing (owner of billing)').waitFor();
    await screenshot(page, 'request-needs-attention');

    billing.behaviour = {};
    await page
      .getByLabel('Why billing is resolved by hand')
      .fill('ticket OPS-12: billing erased by hand, 0 records left');
    await page.getByRole('button', { name: 'Resolve billing' }).click();
    await page.getByRole('heading').filter({ hasText: 'ERASING' }).waitFor();
    // The worker finishes it; the open screen follows live, without a reload.
    await t.app.runWorkerPass();
    await page.getByRole('heading').filter({ hasText: 'COMPLETED' }).waitFor();
    await page.getByText('The signature verifies with key').waitFor();
    // The report says what each service holds as registered, and who owns it.
    const reported = page.getByRole('table').filter({ hasText: 'Holds (registered)' });
    await reported
      .getByRole('row')
      .filter({ hasText: 'team-billing' })
      .getByRole('cell', { name: 'invoices, payment-methods' })
      .waitFor();
    await screenshot(page, 'request-completed');

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText('✔ Intact').waitFor();
    await page.getByText('✔ Complete').waitFor();
    await screenshot(page, 'audit');

    await page.getByRole('link', { name: 'Linked services' }).click();
    await page.getByRole('cell', { name: 'team-billing' }).waitFor();
    await page.getByRole('cell', { name: 'tax law: invoices kept 10 years' }).waitFor();
    await screenshot(page, 'linked-services');

    await page.getByRole('link', { name: 'Deadlines' }).click();
    await page.getByRole('heading', { name: /Due within 7 days/ }).waitFor();
    await screenshot(page, 'deadlines');
    expect(admin.complaints).toEqual([]);
    await admin.context.close();
  });

  it('offers a viewer without the admin scope no admin action and no admin screen', async () => {
    billing.behaviour = { failFirst: 1000 };
    const stuck = await t.scheduled({ prefix: 'viewer' });
    await passUntil(t, stuck.id, 'NEEDS_ATTENTION');

    const viewer = await signIn(t, await mintToken({ sub: 'viewer-vi', scope: 'deletion:read' }));
    const { page } = viewer;
    const screens = await page
      .getByRole('navigation', { name: 'Screens' })
      .getByRole('link')
      .allTextContents();
    expect(screens).toEqual(['Queue', 'Deadlines', 'Linked services']);
    await page.goto(`http://127.0.0.1:${String(t.ports.http)}/console/requests/${stuck.id}`);
    await page.getByRole('heading').filter({ hasText: 'NEEDS ATTENTION' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'billing' }).getByText('FAILED').waitFor();
    expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
    expect(await page.getByRole('textbox').count()).toBe(0);
    // What needs attention because of billing, from the linked services' screen to the queue.
    await page.getByRole('link', { name: 'Linked services' }).click();
    const billingRow = page.getByRole('row').filter({ hasText: 'team-billing' });
    await billingRow.getByRole('cell', { name: /^[0-9]+ calls, [0-9]+ failed/ }).waitFor();
    // Earlier tests' requests purged while billing failed need attention too.
    const attention = billingRow.getByRole('cell').nth(5).getByRole('link');
    const stuckOnBilling = Number(await attention.innerText());
    expect(stuckOnBilling).toBeGreaterThanOrEqual(1);
    await attention.click();
    await page.getByRole('link', { name: stuck.id }).waitFor();
    expect(page.url()).toMatch(/state=NEEDS_ATTENTION&service=billing&step=FAILED$/);
    expect(await page.getByRole('row').count()).toBe(stuckOnBilling + 1);
    // A session that ends under an open console (here: its cookie gone) goes back to the sign-in.
    await viewer.context.clearCookies();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByLabel('Token or API key').waitFor();
    expect(viewer.complaints).toEqual([]);
    await viewer.context.close();
  });
});

describe('the mass-deletion breaker in the console', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ BREAKER_LIMIT: '1', BREAKER_REQUESTER_LIMIT: '100' });
  });
  afterAll(async () => {
    await t[Symbol.asyncDispose]();
  });

  it('shows the breaker trip and lets an administrator resume with a reason', async () => {
    await t.scheduled({ prefix: 'burst' });
    await t.scheduled({ prefix: 'burst' });
    const admin = await signIn(t, (await adminAuth('admin-safety')).token);
    const { page } = admin;
    await page.getByRole('link', { name: 'Safety' }).click();
    await page.getByText('Erasures run').waitFor();

    const pass = await t.app.runWorkerPass();
    expect(pass.tripped).toBe(true);
    // The screen refreshes by itself: the trip shows without a reload.
    await page.getByText('Erasures are paused').waitFor();
    await screenshot(page, 'safety-tripped');
    const resume = page.getByRole('button', { name: 'Resume erasures' });
    expect(await resume.isDisabled()).toBe(true);
    await page
      .getByLabel('Why it is safe to resume')
      .fill('ticket OPS-77: planned clean-up of test accounts');
    await resume.click();
    await page.getByText('Erasures run').waitFor();
    expect((await t.app.deps.breaker.load()).pause).toBeNull();
    expect(admin.complaints).toEqual([]);
    await admin.context.close();
  });
});
