import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, type Client, type Decided, personClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

/**
 * The agent page follows the live stream, in headless Chromium: the agent's new decisions,
 * approval steps and outcomes reach its timeline and its unaccounted calls without a reload, and
 * another agent's events fetch nothing.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;
const AGENT = 'support-bot-1';
/** Another agent of the same role: the same tools and rules. */
const OTHER = 'support-bot-2';

describe('agent page: live timeline and unaccounted calls', () => {
  let harness: ConsoleServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let other: Client;
  let admin: Client;
  let url: string;
  /** The agent page's fetches of its timeline and of its unaccounted calls. */
  const fetched = { timeline: 0, orphans: 0 };

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-agent-live-', ADMIN_PASSWORD);
    url = harness.server.url;
    support = agentClient(url, harness.keys[AGENT] as string);
    admin = await personClient(url, 'admin', ADMIN_PASSWORD);
    expect((await admin.post('/v1/agents', { id: OTHER, role: 'support' })).status).toBe(201);
    other = agentClient(url, (await admin.post<{ key: string }>(`/v1/agents/${OTHER}/keys`)).body.key);
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    // The page's timers on a clock the test can stop (time runs as usual until it does).
    await page.clock.install();
    page.on('request', (request: Request) => {
      const { pathname, searchParams } = new URL(request.url());
      if (pathname === '/v1/audit' && searchParams.get('agent') === AGENT) fetched.timeline++;
      if (pathname === '/v1/outcomes/orphans' && searchParams.get('agent') === AGENT) fetched.orphans++;
    });
    await signInWithPassword(page, url, 'admin', ADMIN_PASSWORD);
    // Chromium logs the 401 of the session probe before signing in.
    browser.takeConsoleErrors((message) => message.text().includes('status of 401'));
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  const timeline = () => page.getByTestId('timeline');
  const orphans = () => page.getByTestId('orphans');
  const accountedFor = () => orphans().getByTestId('orphans-empty').filter({ hasText: 'Every call is accounted for' });
  /** The newest audit record of a type about an agent. */
  const newest = async (agent: string, type: string): Promise<number> => {
    const { body } = await admin.get<{ records: { seq: number }[] }>(`/v1/audit?agent=${agent}&type=${type}&limit=1`);
    return (body.records[0] as { seq: number }).seq;
  };
  const row = (seq: number) => timeline().locator(`tr[data-seq="${seq}"]`);
  const succeeded = (decision: Decided) => ({ outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status: 'succeeded', at: Date.now(), durationMs: 5 }] });

  /** Decisions of the first test, reported in the second. */
  let first: Decided;
  let asked: Decided;

  it('its timeline shows the agent’s decisions and approval steps as they happen, without a reload', async () => {
    await page.goto(`${url}/fleet/${AGENT}`);
    await timeline().getByText('That is the beginning.').waitFor();
    // Gone after a reload or a navigation away and back.
    await page.evaluate('window.sameDocument = true');

    // Another agent's call, then one of this agent: only this agent's reaches its timeline.
    expect((await other.post<Decided>('/v1/decide', refund('LIVE-OTHER-1', 20))).body.effect).toBe('allow');
    first = (await support.post<Decided>('/v1/decide', refund('LIVE-1', 20))).body;
    expect(first.effect).toBe('allow');
    await row(await newest(AGENT, 'decision')).waitFor();
    expect(await row(await newest(OTHER, 'decision')).count()).toBe(0);

    // A call waiting for approval: its row follows the approval, and the approval's record arrives.
    asked = (await support.post<Decided>('/v1/decide', refund('LIVE-3', 75))).body;
    expect(asked.effect).toBe('require_approval');
    const outcome = row(await newest(AGENT, 'decision')).getByTestId('approval-outcome');
    await outcome.and(page.locator('[data-status="pending"]')).waitFor();
    expect((await admin.post(`/v1/approvals/${asked.approval?.id as string}/approve`, { reason: 'ok' })).status).toBe(200);
    await outcome.and(page.locator('[data-status="approved"]')).waitFor();
    await row(await newest(AGENT, 'approval.approved')).waitFor();

    expect(await page.evaluate('window.sameDocument')).toBe(true);
    expect(browser.takeConsoleErrors()).toEqual([]);
    expect(harness.errors).toEqual([]);
  });

  it('its unaccounted calls and timeline follow the agent’s outcomes, allowed calls and redemptions, without a reload', async () => {
    await orphans().getByTestId('orphans-empty').filter({ hasText: 'has not reported the outcome of any call' }).waitFor();

    // Its first outcome: the agent now reports outcomes, and every call is accounted for.
    expect((await support.post<{ recorded: number }>('/v1/outcomes', succeeded(first))).body.recorded).toBe(1);
    await accountedFor().waitFor();
    await row(await newest(AGENT, 'call.executed')).waitFor();

    // An allowed call not reported (yet) is listed at once with no grace period, and leaves when it is reported.
    await orphans().getByRole('button', { name: 'at once' }).click();
    await accountedFor().waitFor();
    const second = (await support.post<Decided>('/v1/decide', refund('LIVE-2', 20))).body;
    await orphans().locator(`tr[data-orphan="allowed_unreported"][data-decision="${second.id}"]`).waitFor();
    expect((await support.post<{ recorded: number }>('/v1/outcomes', succeeded(second))).body.recorded).toBe(1);
    await accountedFor().waitFor();
    expect(await orphans().locator('tr[data-orphan]').count()).toBe(0);

    // The approved call redeemed and not reported is unaccounted for, until it is.
    const approvalId = asked.approval?.id as string;
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, refund('LIVE-3', 75))).status).toBe(200);
    await orphans().locator(`tr[data-orphan="redeemed_unreported"][data-approval="${approvalId}"]`).waitFor();
    expect((await support.post<{ recorded: number }>('/v1/outcomes', succeeded(asked))).body.recorded).toBe(1);
    await accountedFor().waitFor();
    await row(await newest(AGENT, 'call.executed')).waitFor();

    expect(await page.evaluate('window.sameDocument')).toBe(true);
    expect(browser.takeConsoleErrors()).toEqual([]);
    expect(harness.errors).toEqual([]);
  });

  it('fetches nothing for another agent’s events, and its unaccounted calls nothing for a blocked call', async () => {
    // Time stops: the page's coalesced fetches wait for `runFor`, so the test sees every one.
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    let pauseId: string | undefined;
    /**
     * Waits until the page has taken every event published so far, then lets its pending fetches
     * go: a pause event (of the other agent, paused or resumed) makes it fetch the pauses at once.
     */
    const settle = async (): Promise<void> => {
      const pausesFetched = page.waitForRequest((request) => new URL(request.url()).pathname === '/v1/pauses');
      if (pauseId === undefined) pauseId = (await admin.post<{ id: string }>('/v1/pauses', { scope: 'agent', target: OTHER, reason: 'a marker in the event stream' })).body.id;
      else {
        await admin.post(`/v1/pauses/${pauseId}/resume`);
        pauseId = undefined;
      }
      await pausesFetched;
      await page.clock.runFor(5000);
    };
    const since = { ...fetched };
    const fetches = () => ({ timeline: fetched.timeline - since.timeline, orphans: fetched.orphans - since.orphans });

    // Another agent: an allowed call, its outcome, a call waiting for approval.
    const allowed = (await other.post<Decided>('/v1/decide', refund('LIVE-OTHER-2', 20))).body;
    expect((await other.post<{ recorded: number }>('/v1/outcomes', succeeded(allowed))).body.recorded).toBe(1);
    expect((await other.post<Decided>('/v1/decide', refund('LIVE-OTHER-3', 75))).body.effect).toBe('require_approval');
    await settle();

    // This agent: a blocked call reaches the timeline; it cannot be unaccounted for.
    expect((await support.post<Decided>('/v1/decide', refund('LIVE-4', 900))).body.effect).toBe('block');
    await settle();
    await row(await newest(AGENT, 'decision')).waitFor();

    // An allowed call: both.
    const allowedHere = (await support.post<Decided>('/v1/decide', refund('LIVE-5', 20))).body;
    await settle();
    await orphans().locator(`tr[data-orphan="allowed_unreported"][data-decision="${allowedHere.id}"]`).waitFor();
    await row(await newest(AGENT, 'decision')).waitFor();
    expect(fetches()).toEqual({ timeline: 2, orphans: 1 });

    await page.clock.resume();
    expect(browser.takeConsoleErrors()).toEqual([]);
    expect(harness.errors).toEqual([]);
  });

  it('keeps the older pages it loaded when new records arrive', async () => {
    for (let i = 0; i < 50; i++) expect((await support.post<Decided>('/v1/decide', refund(`LIVE-MANY-${i}`, 900))).body.effect).toBe('block');
    await page.goto(`${url}/fleet/${AGENT}`);
    await timeline().getByRole('button', { name: 'Older records' }).click();
    await timeline().getByText('That is the beginning.').waitFor();
    const { body } = await admin.get<{ records: { seq: number }[] }>(`/v1/audit?agent=${AGENT}&limit=500`);
    const firstRecord = (body.records.at(-1) as { seq: number }).seq;
    expect(await timeline().getByText(`${body.records.length} records (2 pages).`).count()).toBe(1);

    expect((await support.post<Decided>('/v1/decide', refund('LIVE-6', 20))).body.effect).toBe('allow');
    await row(await newest(AGENT, 'decision')).waitFor();
    await timeline().getByText(`${body.records.length + 1} records (2 pages).`).waitFor();
    expect(await row(firstRecord).count()).toBe(1);
    expect(browser.takeConsoleErrors()).toEqual([]);
  });
});
