import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { agentClient, personClient, type Client } from './support/api.js';
import { answered, launchBrowser, reportPageOnFailure, screenshot, signInWithPassword, type TestBrowser } from './support/browser.js';

/**
 * Search in the console (issue 20 item 3), end to end in headless Chromium against a real server:
 * 10,000 refunds across 1,000 accounts, and an argument search that finds exactly one account's.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 30_000;
const REFUNDS = 10_000;
const ACCOUNTS = 1000;
const account = (n: number): string => `C-${String(n % ACCOUNTS).padStart(4, '0')}`;

describe('search in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let admin: Client;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-search-', ADMIN_PASSWORD);
    server = harness.server;
    const keys = harness.keys;
    support = agentClient(server.url, keys['support-bot-1'] as string);
    admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    // 10 refunds per account of $1–$9: under the $100 per-account budget, so every one is allowed.
    for (let start = 0; start < REFUNDS; start += 100) {
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, k) => {
          const i = start + k;
          return support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: account(i), amount: 1 + (i % 9), currency: 'USD' } });
        }),
      );
      expect(replies.every((reply) => reply.status === 200 && reply.body.effect === 'allow')).toBe(true);
    }
    // Two approvals of one account, one of them denied: the inbox's tabs and search.
    for (const amount of [120, 300]) {
      const reply = await support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'Z-1', amount, currency: 'USD' } });
      expect(reply.body.effect).toBe('require_approval');
    }
    const pending = await admin.get<{ approvals: { id: string; args: { amount: number } }[] }>('/v1/approvals?status=pending');
    const denied = pending.body.approvals.find((approval) => approval.args.amount === 300);
    expect((await admin.post(`/v1/approvals/${denied?.id}/deny`, { reason: 'too much' })).status).toBe(200);

    browser = await launchBrowser({ width: 1440, height: 900 });
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    expectConsoleClean({ status: 401, path: '/v1/auth/session' });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  function expectConsoleClean(...expected: { status: number; path: string }[]): void {
    expect(browser.takeConsoleErrors(answered(...expected))).toEqual([]);
  }

  /** The account of each row of the audit table, read from the record view would be slow: from the API's answer instead. */
  async function auditAccounts(): Promise<string[]> {
    const rows = page.getByTestId('audit-table').locator('tbody tr[data-seq]');
    const seqs = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq'))));
    const records = await Promise.all(seqs.map(async (seq) => (await admin.get<{ records: { data: { request: { args: { account_id: string } } } }[] }>(`/v1/audit?cursor=${seq + 1}&limit=1`)).body.records[0]));
    return records.map((record) => record?.data.request.args.account_id ?? '');
  }

  it("finds exactly one account's refunds among 10,000 in the audit explorer, and reads a record as fields, call, chain", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit explorer' }).waitFor();
    // Every type the server writes is offered, those the old list lacked among them.
    const options = await page.getByLabel('Type').locator('option').allTextContents();
    for (const type of ['pause.created', 'pause.applied', 'shadow.flip', 'policy.shadow_started', 'approval.vote', 'call.started', 'call.refused']) expect(options).toContain(type);

    await page.getByLabel('Arguments', { exact: true }).fill('account_id=C-0042');
    await page.getByLabel('Arguments', { exact: true }).press('Enter');
    await page.getByText('10 records shown.').waitFor();
    const rows = page.getByTestId('audit-table').locator('tbody tr[data-seq]');
    expect(await rows.count()).toBe(10);
    expect(await auditAccounts()).toEqual(Array.from({ length: 10 }, () => 'C-0042'));

    // Amount range on top: refunds 42, 1042, … have amounts 1 + (i % 9); keep those of $5 and more.
    const wanted = Array.from({ length: 10 }, (_, k) => 42 + k * 1000).filter((i) => 1 + (i % 9) >= 5).length;
    await page.getByLabel('Arguments', { exact: true }).fill('account_id=C-0042 amount>=5');
    await page.getByLabel('Arguments', { exact: true }).press('Enter');
    await page.getByText(`${wanted} records shown.`).waitFor();
    expect(await rows.count()).toBe(wanted);

    // The record view: its fields, then the call, then where it sits in the chain.
    const first = rows.first();
    const seq = Number(await first.getAttribute('data-seq'));
    await first.getByRole('button', { name: String(seq) }).click();
    const detail = page.getByTestId('record-detail');
    await detail.waitFor();
    const headings = await detail.getByRole('heading').allTextContents();
    expect(headings).toEqual(['Record', 'The call', 'Chain position']);
    await expect.poll(() => page.getByTestId('record-call').textContent()).toContain('C-0042');
    expect(await page.getByTestId('record-call').textContent()).toContain('issue_refund');
    expect(await page.getByTestId('record-chain').textContent()).toContain(`#${seq}`);
    await screenshot(page, 'search-audit');
    expectConsoleClean();
  });

  it("finds the same account's refunds in the feed, and refuses a malformed search with the server's message", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Live feed', exact: true }).click();
    await page.getByRole('heading', { name: 'Live feed' }).waitFor();
    await page.getByLabel('Arguments', { exact: true }).fill('account_id=C-0777');
    await page.getByLabel('Arguments', { exact: true }).press('Enter');
    const rows = page.getByTestId('feed-table').locator('tbody tr[data-decision]');
    await expect.poll(() => rows.count(), { timeout: WAIT_MS }).toBe(10);
    const args = await page.getByTestId('feed-table').locator('tbody td.args').allTextContents();
    expect(args.every((text) => text.includes('C-0777'))).toBe(true);
    expect(new URL(page.url()).searchParams.get('args')).toBe('account_id=C-0777');

    await page.getByLabel('Arguments', { exact: true }).fill('account_id.a.b.c.d=1');
    await page.getByLabel('Arguments', { exact: true }).press('Enter');
    await page.getByText(/path "account_id\.a\.b\.c\.d"/).waitFor();
    expectConsoleClean({ status: 400, path: '/v1/audit' });
  });

  it('shows pending and resolved approvals on their tabs, searchable by argument', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Approvals/ }).click();
    await page.getByRole('heading', { name: /Approvals inbox/ }).waitFor();
    const items = page.locator('[data-approval]');
    await page.getByLabel('Arguments', { exact: true }).fill('account_id=Z-1');
    await page.getByLabel('Arguments', { exact: true }).press('Enter');
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().textContent()).toContain('120');
    await page.getByRole('tab', { name: 'Resolved' }).click();
    await expect.poll(async () => (await items.allTextContents()).join('|')).toContain('300');
    expect(await items.count()).toBe(1);
    expect(await items.first().textContent()).toContain('denied');
    expect(await page.getByLabel('Sort by').locator('option').allTextContents()).toEqual(['age (newest first)', 'age (oldest first)']);
    await page.getByRole('tab', { name: 'Pending' }).click();
    expect(await page.getByLabel('Sort by').inputValue()).toBe('deadline');
    expectConsoleClean();
  });
});
