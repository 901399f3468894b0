import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { agentClient, type Client, personClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, screenshot, signInWithPassword, type TestBrowser } from './support/browser.js';

/**
 * The overview as an operator's main screen (issue 20.2), end to end in Chromium: what needs
 * attention links to its page, and every figure links to exactly the records behind it.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;

interface Decision {
  effect: string;
  rule: string | null;
  approval?: { id: string };
}

describe('overview in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let devops: Client;
  let admin: Client;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-overview-', ADMIN_PASSWORD);
    server = harness.server;
    const keys = harness.keys;
    support = agentClient(server.url, keys['support-bot-1'] as string);
    devops = agentClient(server.url, keys['devops-bot-1'] as string);
    admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    // Chromium logs the 401 of the session probe before signing in.
    browser.takeConsoleErrors((message) => message.text().includes('status of 401'));
  });

  afterEach(() => {
    expect(browser.takeConsoleErrors()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  /** The decisions of the feed table, as the page shows them. */
  async function feedRows(): Promise<{ effect: string | null; agent: string }[]> {
    await page.getByTestId('feed-table').waitFor();
    return page
      .getByTestId('feed-table')
      .locator('tbody tr[data-decision]')
      .evaluateAll((rows) => rows.map((row) => ({ effect: row.getAttribute('data-effect'), agent: (row.querySelectorAll('td')[1]?.querySelector('a')?.textContent ?? '').trim() })));
  }

  /** How many decision records the audit API has for these filters. */
  async function auditCount(params: URLSearchParams): Promise<number> {
    const query = new URLSearchParams({ type: 'decision', limit: '500' });
    for (const key of ['effect', 'cause', 'rule', 'agent', 'role', 'tool', 'environment', 'from', 'to']) {
      const value = params.get(key);
      if (value) query.set(key, value);
    }
    const { body } = await admin.get<{ records: unknown[]; nextCursor: string | null }>(`/v1/audit?${query.toString()}`);
    expect(body.nextCursor).toBeNull();
    return body.records.length;
  }

  it('on a fresh server the anomaly card says the baselines are still being learned', async () => {
    const card = page.getByTestId('attention-anomalies');
    await card.filter({ hasText: /Learning: no history yet\. Anomalies are flagged once an agent has 60 min of history\./ }).waitFor();
    await expect(card.getAttribute('class')).resolves.toContain('warn');
    expect(await card.getByText(/No anomaly/).count()).toBe(0);
  });

  it('an active pause shows on the overview and links to the page where it can be resumed', async () => {
    // Traffic: 3 refunds blocked by refund-large, 2 allowed, 1 waiting for approval, 2 exports blocked.
    for (const amount of [900, 950, 30_000]) expect((await support.post<Decision>('/v1/decide', refund(`BIG-${amount}`, amount))).body).toMatchObject({ effect: 'block', rule: 'refund-large' });
    for (const amount of [10, 20]) expect((await support.post<Decision>('/v1/decide', refund(`SMALL-${amount}`, amount))).body.effect).toBe('allow');
    for (let i = 0; i < 2; i++) expect((await support.post<Decision>('/v1/decide', { tool: 'export_customers', args: {} })).body.effect).toBe('block');
    const pause = await admin.post<{ id: string }>('/v1/pauses', { scope: 'agent', target: 'devops-bot-1', reason: 'overview e2e' });
    expect(pause.status).toBe(201);
    for (let i = 0; i < 2; i++) expect((await devops.post<Decision>('/v1/decide', { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } })).body.effect).toBe('block');

    await page.goto(`${server.url}/`);
    const card = page.getByTestId('attention-pauses');
    const link = card.getByTestId('attention-pause-link');
    await link.filter({ hasText: 'Paused: Agent devops-bot-1' }).waitFor();
    await expect(card.getAttribute('class')).resolves.toContain('alert');
    await link.click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/fleet/devops-bot-1');
    // The agent's page shows that very pause, with Resume.
    const banner = page.getByTestId('pause-banner').locator(`li[data-pause="${pause.body.id}"]`);
    await banner.filter({ hasText: 'Agent devops-bot-1 is paused' }).waitFor();
    await banner.getByRole('button', { name: 'Resume' }).waitFor();
  });

  it('the oldest waiting approval links to its page and tells when it escalates', async () => {
    const first = await support.post<Decision>('/v1/decide', refund('WAIT-1', 75));
    expect(first.body.effect).toBe('require_approval');
    const second = await support.post<Decision>('/v1/decide', refund('WAIT-2', 80));
    expect(second.body.effect).toBe('require_approval');
    await page.goto(`${server.url}/`);
    const card = page.getByTestId('attention-oldest-approval');
    await card.filter({ hasText: /Escalates to manager in \d+ min/ }).waitFor();
    await expect(card.innerText()).resolves.toMatch(/issue_refund\s+by support-bot-1, waiting/);
    await card.getByRole('link', { name: '1 more waiting' }).waitFor();
    await screenshot(page, 'overview-attention');
    await page.getByTestId('oldest-approval-link').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/approvals/${first.body.approval?.id as string}`);
    await page.getByTestId('approval-status').filter({ hasText: 'pending' }).waitFor();
  });

  it('the blocked tile, a cause bar and a chart cell open the feed with exactly their records', async () => {
    await page.goto(`${server.url}/`);
    const blocked = page.getByTestId('tile-blocked');
    // 3 refunds, 2 exports, 2 paused devops calls.
    await blocked.filter({ hasText: '7 calls' }).waitFor();
    await blocked.locator('.tile-value').click();
    await expect.poll(async () => (await feedRows()).length).toBe(7);
    let url = new URL(page.url());
    expect(url.pathname).toBe('/feed');
    expect(url.searchParams.get('effect')).toBe('block');
    expect(new Set((await feedRows()).map((row) => row.effect))).toEqual(new Set(['block']));
    expect(await auditCount(url.searchParams)).toBe(7);

    // "Why calls were blocked": the refund-large bar stands for 3 records, the paused one for 2.
    for (const [name, count] of [
      ['refund-large: 3', 3],
      ['paused (kill switch): 2', 2],
    ] as const) {
      await page.goto(`${server.url}/`);
      const causes = page.getByRole('figure', { name: 'Why calls were blocked' });
      // The bars are drawn in the order of the figure's list of links (its text alternative).
      await causes.locator('figcaption a').first().waitFor({ state: 'attached' });
      const names = (await causes.locator('figcaption a').allTextContents()).map((text) => text.trim());
      expect(names).toContain(name);
      await causes.locator('.recharts-bar-rectangle').nth(names.indexOf(name)).click();
      await expect.poll(async () => (await feedRows()).length).toBe(count);
      url = new URL(page.url());
      expect(await auditCount(url.searchParams)).toBe(count);
      await expect(page.getByTestId('feed-filters').innerText()).resolves.toMatch(name.startsWith('refund') ? /rule refund-large/ : /cause: paused/);
    }

    // The newest blocked bar of the chart: the blocked calls of its bucket, as many as its figure
    // in the chart's data table says (the 7 calls may straddle a bucket boundary).
    await page.goto(`${server.url}/`);
    const chart = page.getByRole('figure', { name: 'Decisions over time, stacked by effect' });
    const table = page.getByTestId('series-table');
    await table.locator('tbody a[href*="effect=block"]').first().waitFor({ state: 'attached' });
    const cell = table.locator('tbody a[href*="effect=block"]').last();
    const expected = Number(await cell.textContent());
    const target = new URL(`${server.url}${(await cell.getAttribute('href')) ?? ''}`);
    expect(expected).toBeGreaterThan(0);
    await chart.locator('.bar-block .recharts-bar-rectangle').last().click();
    await expect.poll(() => new URL(page.url()).search).toBe(target.search);
    await expect.poll(async () => (await feedRows()).length).toBe(expected);
    url = new URL(page.url());
    expect(url.searchParams.get('effect')).toBe('block');
    expect(await auditCount(url.searchParams)).toBe(expected);
    await screenshot(page, 'overview-feed-from-tile');
  });

  it('an agent filter is kept in the URL, survives a reload and narrows every figure and link', async () => {
    await page.goto(`${server.url}/`);
    await page.getByTestId('tile-decisions').waitFor();
    await page.getByRole('search', { name: 'Scope of the overview' }).getByLabel('Agent').selectOption('support-bot-1');
    await expect.poll(() => new URL(page.url()).searchParams.get('agent')).toBe('support-bot-1');
    // support-bot-1: 3 + 2 exports blocked, 2 allowed, 2 waiting; devops' paused calls are out.
    await page.getByTestId('tile-blocked').filter({ hasText: '5 calls' }).waitFor();
    await page.getByTestId('tile-decisions').filter({ hasText: '9' }).waitFor();
    // The pause of another agent is not this scope's concern.
    await page.getByTestId('attention-pauses').filter({ hasText: 'Nothing is paused' }).waitFor();

    await page.reload();
    await page.getByTestId('tile-blocked').filter({ hasText: '5 calls' }).waitFor();
    expect(new URL(page.url()).searchParams.get('agent')).toBe('support-bot-1');
    await expect(page.getByRole('search', { name: 'Scope of the overview' }).getByLabel('Agent').inputValue()).resolves.toBe('support-bot-1');
    await screenshot(page, 'overview-agent-filter');

    await page.getByTestId('tile-blocked').locator('.tile-value').click();
    await expect.poll(async () => (await feedRows()).length).toBe(5);
    const url = new URL(page.url());
    expect(url.searchParams.get('agent')).toBe('support-bot-1');
    expect(new Set((await feedRows()).map((row) => row.agent))).toEqual(new Set(['support-bot-1']));
    expect(await auditCount(url.searchParams)).toBe(5);
  });
});
