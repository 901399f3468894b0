import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, type Client, type Decided, personClient, refund } from './support/api.js';
import { answered, launchBrowser, reportPageOnFailure, screenshot, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

/**
 * The agent page's unaccounted calls (issue 21 item 2), in headless Chromium as a viewer: an
 * approval redeemed and never reported shows up linked to its approval, and leaves once its
 * outcome is reported; before the agent reports anything, the empty state says why nothing is judged.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password 1234';
const WAIT_MS = 15_000;
const AGENT = 'support-bot-1';

describe('agent page: unaccounted calls', () => {
  let harness: ConsoleServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let admin: Client;
  let url: string;

  /** How far the server's clock is ahead of the real one: a test moves it, and the page's, together. */
  let serverAheadMs = 0;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-orphans-', ADMIN_PASSWORD, { clock: { now: () => Date.now() + serverAheadMs } });
    url = harness.server.url;
    support = agentClient(url, harness.keys[AGENT] as string);
    admin = await personClient(url, 'admin', ADMIN_PASSWORD);
    expect((await admin.post('/v1/users', { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer' })).status).toBe(201);
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    // The page's timers on a clock the test can move (time runs as usual until it does).
    await page.clock.install();
    await page.goto(`${url}/`);
    await page.getByLabel('Username').fill('vera');
    await page.getByLabel('Password').fill(VIEWER_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Before signing in, the app asks for the session and is answered 401.
    expect(browser.takeConsoleErrors(answered({ status: 401, path: '/v1/auth/session' }))).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  const panel = () => page.getByTestId('orphans');
  const emptySaying = (text: string) => panel().getByTestId('orphans-empty').filter({ hasText: text });
  const checkAgain = async (): Promise<void> => {
    await panel().getByRole('button', { name: 'Check again' }).click();
  };

  it('says nothing is judged before the agent reports an outcome', async () => {
    await page.goto(`${url}/fleet/${AGENT}`);
    const empty = panel().getByTestId('orphans-empty');
    await empty.waitFor();
    expect(await empty.textContent()).toContain(`${AGENT} has not reported the outcome of any call`);
  });

  it('lists an approval redeemed without an outcome, linked to the approval, until its outcome is reported', async () => {
    // The agent reports: its allowed $20 refund ran.
    const small = (await support.post<Decided>('/v1/decide', refund('ORPH-1', 20))).body;
    expect(small.effect).toBe('allow');
    const first = await support.post<{ recorded: number }>('/v1/outcomes', { outcomes: [{ decisionId: small.id, decidedAt: small.at, status: 'succeeded', at: Date.now(), durationMs: 12 }] });
    expect(first.body.recorded).toBe(1);

    await page.goto(`${url}/fleet/${AGENT}`);
    await panel().getByRole('button', { name: 'at once' }).click();
    await emptySaying('Every call is accounted for').waitFor();

    // A $75 refund is approved and redeemed, and its run is never reported.
    const big = (await support.post<Decided>('/v1/decide', refund('ORPH-2', 75))).body;
    expect(big.effect).toBe('require_approval');
    const approvalId = big.approval?.id as string;
    expect((await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' })).status).toBe(200);
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, refund('ORPH-2', 75))).status).toBe(200);

    await checkAgain();
    const row = panel().locator(`tr[data-orphan="redeemed_unreported"][data-approval="${approvalId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('issue_refund');
    expect(await row.getByRole('link').getAttribute('href')).toBe(`/approvals/${approvalId}`);
    expect(await panel().locator('tr[data-orphan]').count()).toBe(1);
    await screenshot(page, 'orphans-agent-page');

    // With the default grace period (5 minutes) the redemption is not an orphan yet.
    await panel().getByRole('button', { name: '5 min' }).click();
    await emptySaying('within 5 min').waitFor();
    await panel().getByRole('button', { name: 'at once' }).click();
    await row.waitFor();

    // The link leads to the approval, which says nothing was reported.
    await row.getByRole('link').click();
    await page.getByTestId('execution').waitFor();
    expect(await page.getByTestId('execution').textContent()).toContain('no outcome reported');

    // The agent reports the run: it leaves the panel.
    const reported = await support.post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: big.id, decidedAt: big.at, status: 'succeeded', at: Date.now(), durationMs: 210 }],
    });
    expect(reported.body.recorded).toBe(1);
    await page.goto(`${url}/fleet/${AGENT}`);
    await panel().getByRole('button', { name: 'at once' }).click();
    await emptySaying('Every call is accounted for').waitFor();
    expect(await panel().locator('tr[data-orphan]').count()).toBe(0);

    // A second report of the same call is refused and shows as reported twice, linked to its decision's record.
    const again = await support.post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: big.id, decidedAt: big.at, status: 'failed', at: Date.now(), error: { class: 'Error', message: 'again' } }],
    });
    expect(again.body.recorded).toBe(0);
    await checkAgain();
    const twice = panel().locator(`tr[data-orphan="reported_twice"][data-decision="${big.id}"]`);
    await twice.waitFor();
    expect(await twice.textContent()).toContain('Reported 2 times');
    expect(await twice.getByRole('link', { name: /^record #\d+$/ }).getAttribute('href')).toMatch(new RegExp(`^/audit\\?agent=${AGENT}&seq=\\d+$`));

    expect(browser.takeConsoleErrors()).toEqual([]);
    expect(harness.errors).toEqual([]);
  });

  it('lists a call once it passes the grace period, without a click', async () => {
    await page.goto(`${url}/fleet/${AGENT}`);
    const graceMinute = page.waitForResponse((response) => response.url().includes('/v1/outcomes/orphans') && response.url().includes('grace=60'));
    await panel().getByRole('button', { name: '1 min' }).click();
    await graceMinute;
    const next = panel().getByTestId('orphans-next');
    expect(await next.count()).toBe(0);

    // An allowed call never reported: the card fetches again on its decision, and the answer says
    // when the call passes the grace period.
    const call = (await support.post<Decided>('/v1/decide', refund('ORPH-3', 20))).body;
    expect(call.effect).toBe('allow');
    await next.waitFor();
    const row = panel().locator(`tr[data-orphan="allowed_unreported"][data-decision="${call.id}"]`);
    expect(await row.count()).toBe(0);

    // A minute passes, on the server's clock and the page's, and nobody clicks "Check again".
    serverAheadMs += 61_000;
    await page.clock.fastForward(61_000);
    await row.waitFor();
    expect(await row.textContent()).toContain('Allowed, run never reported');
    await next.waitFor({ state: 'detached' });

    expect(browser.takeConsoleErrors()).toEqual([]);
    expect(harness.errors).toEqual([]);
  });
});
