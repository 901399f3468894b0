import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, type Client, personClient, refund } from './support/api.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { answered, launchBrowser, reportPageOnFailure, screenshot, signInWithPassword, type TestBrowser } from './support/browser.js';
import { replaceSource, sourceEditor } from './support/policy-editor.js';

/**
 * The dashboard end to end: the built app (packages/dashboard/dist, made by `npm run build`)
 * served by a real server on a temporary SQLite file, driven in headless Debian Chromium.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password 1234';
const APPROVER_PASSWORD = 'an approver password 1234';
/** Live updates must reach the page this fast (the acceptance criterion). */
const LIVE_MS = 2000;
/** Generous bound for anything else the page waits for (loading, validation round trips). */
const WAIT_MS = 15_000;

interface Decision {
  effect: string;
  rule: string | null;
  policy: { version: number };
  approval?: { id: string };
}

describe('dashboard in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;
  let devops: Client;
  let admin: Client;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-', ADMIN_PASSWORD);
    server = harness.server;
    const keys = harness.keys;
    support = agentClient(server.url, keys['support-bot-1'] as string);
    devops = agentClient(server.url, keys['devops-bot-1'] as string);
    admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    expect((await admin.post('/v1/users', { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer' })).status).toBe(201);
    expect((await admin.post('/v1/users', { username: 'alex', password: APPROVER_PASSWORD, role: 'approver', groups: ['support-leads', 'support-managers'] })).status).toBe(201);
    browser = await launchBrowser();
    page = browser.page;
    // A locator that never matches fails the step with its name instead of hanging the test.
    page.setDefaultTimeout(WAIT_MS);
  });

  afterEach(() => {
    // Every view, every step: no console error, warning or uncaught exception in the page.
    expect(browser.takeConsoleErrors()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  /**
   * Fails on any console error or warning except the API answers a step expects: Chromium logs
   * every 4xx answer to fetch as "Failed to load resource", e.g. the 401 of GET /v1/auth/session
   * before anyone signed in, or the 422 of an invalid draft.
   */
  function expectConsoleClean(...expected: { status: number; path: string }[]): void {
    expect(browser.takeConsoleErrors(answered(...expected))).toEqual([]);
  }

  async function signIn(username: string, password: string): Promise<void> {
    await signInWithPassword(page, server.url, username, password);
    expectConsoleClean({ status: 401, path: '/v1/auth/session' });
  }

  /** A file of the active policy version, as the editor loads it (CodeMirror has no input value). */
  async function activeSource(file: string): Promise<string> {
    const version = (await admin.get<{ active: number }>('/v1/policies')).body.active;
    const detail = await admin.get<{ sources: { file: string; text: string }[] }>(`/v1/policies/${version}`);
    return (detail.body.sources.find((s) => s.file === file) as { text: string }).text;
  }

  /** A link of the main navigation. */
  function nav(name: string) {
    return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT_MS });
  }

  /** The number in an overview tile. */
  async function tile(testId: string): Promise<number> {
    const text = await page.getByTestId(testId).locator('.tile-value').innerText();
    return Number(text.replace(/[^\d]/g, ''));
  }

  /** Sum of one effect column of the chart's data table. */
  async function chartTotal(effect: 'allow' | 'approval' | 'block'): Promise<number> {
    const table = page.getByTestId('series-table');
    const column = await table.locator('thead th').allInnerTexts();
    const index = column.findIndex((name) => name.trim().toLowerCase() === effect);
    const cells = await table.locator(`tbody tr td:nth-child(${index + 1})`).allInnerTexts();
    return cells.reduce((sum, cell) => sum + Number(cell), 0);
  }

  it('signs in with the server session', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid_credentials' }).waitFor({ timeout: WAIT_MS });
    await screenshot(page, '01-login-error');
    expectConsoleClean({ status: 401, path: '/v1/auth/session' }, { status: 401, path: '/v1/auth/login' });

    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: WAIT_MS });
    await page.getByText('Live', { exact: true }).waitFor({ timeout: WAIT_MS });
    // A reload keeps the session (cookie) and gets the CSRF token again from /v1/auth/session.
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: WAIT_MS });
    await expect.poll(() => page.locator('.user').innerText()).toContain('admin');
  });

  it('shows decisions made through the API in the chart and the live feed within 2 s', async () => {
    await page.getByTestId('tile-decisions').waitFor({ timeout: WAIT_MS });
    await page.getByText('Data table').click();
    const before = { decisions: await tile('tile-decisions'), block: await chartTotal('block'), allow: await chartTotal('allow') };

    expect((await support.post<Decision>('/v1/decide', refund('LIVE-1', 20))).body.effect).toBe('allow');
    expect((await support.post<Decision>('/v1/decide', { tool: 'export_customers', args: {} })).body.effect).toBe('block');
    await expect.poll(() => tile('tile-decisions'), { timeout: LIVE_MS, interval: 100 }).toBe(before.decisions + 2);
    await expect.poll(() => chartTotal('block'), { timeout: LIVE_MS, interval: 100 }).toBe(before.block + 1);
    expect(await chartTotal('allow')).toBe(before.allow + 1);
    await expect(page.locator('.recharts-bar-rectangle').count()).resolves.toBeGreaterThanOrEqual(2);
    await screenshot(page, '02-overview');

    await nav('Live feed').click();
    await page.getByTestId('feed-table').waitFor({ timeout: WAIT_MS });
    expect((await support.post<Decision>('/v1/decide', refund('LIVE-2', 640))).body.rule).toBe('refund-large');
    const row = page.locator('[data-testid="feed-table"] tbody tr').filter({ hasText: 'LIVE-2' });
    await row.waitFor({ timeout: LIVE_MS });
    await expect(row.innerText()).resolves.toMatch(/support-bot-1[\s\S]*issue_refund[\s\S]*amount=640[\s\S]*block[\s\S]*refund-large[\s\S]*Refunds over \$500 are never automated/);

    // Pause holds new decisions back; resume shows them.
    await page.getByRole('button', { name: 'Pause' }).click();
    await support.post('/v1/decide', refund('LIVE-3', 5));
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor({ timeout: LIVE_MS });
    expect(await page.locator('tbody tr').filter({ hasText: 'LIVE-3' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume (1 new)' }).click();
    await page.locator('tbody tr').filter({ hasText: 'LIVE-3' }).waitFor({ timeout: LIVE_MS });

    // Filters: only blocked decisions.
    await page.getByLabel('Effect').selectOption('block');
    await expect.poll(() => page.locator('[data-testid="feed-table"] tbody tr').allInnerTexts()).not.toContainEqual(expect.stringContaining('LIVE-3'));
    await page.locator('tbody tr').filter({ hasText: 'LIVE-2' }).getByRole('button').click();
    await page.getByTestId('feed-table').getByLabel('Arguments').waitFor();
    await screenshot(page, '03-live-feed');
  });

  it('approves a pending refund from the inbox, and the waiting agent receives the approval', async () => {
    const asked = await support.post<Decision>('/v1/decide', refund('APR-1', 75));
    expect(asked.body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium' });
    const approvalId = asked.body.approval?.id as string;
    const waiting = support.get<{ status: string; resolvedBy: string; resolutionReason: string }>(`/v1/approvals/${approvalId}/wait?timeout=60`);

    await nav('Approvals').click();
    const item = page.locator(`[data-approval="${approvalId}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    await item.click();
    await page.getByRole('heading', { name: 'issue_refund by support-bot-1' }).waitFor({ timeout: WAIT_MS });
    await expect(page.getByLabel('The call').innerText()).resolves.toContain('"amount": 75');
    await expect(page.getByTestId('budgets').innerText()).resolves.toMatch(/refund-budget\s+budget\s+0\s+75\s+100\s+25\s+24h/);
    await expect(page.getByTestId('history').innerText()).resolves.toContain('amount=640');
    await screenshot(page, '04-approvals-inbox');

    // A reason is required; the keyboard alone resolves the request.
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText('Give a reason before approving or denying.').waitFor();
    await page.getByLabel('Reason (recorded in the audit trail)').fill('Customer verified by phone');
    await page.keyboard.press('Tab');
    await expect(page.evaluate<string | undefined>('document.activeElement?.textContent')).resolves.toBe('Approve');
    await page.keyboard.press('Enter');

    const answered = await waiting;
    expect(answered.body).toMatchObject({ status: 'approved', resolvedBy: 'admin', resolutionReason: 'Customer verified by phone' });
    await page.getByTestId('resolution').filter({ hasText: 'Approved by you' }).waitFor({ timeout: WAIT_MS });
    // Gone from the inbox (waited for: the list drops it on its own update).
    await page.locator(`[data-approval="${approvalId}"]`).waitFor({ state: 'detached', timeout: WAIT_MS });
    // The agent spends it; the page follows live.
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, refund('APR-1', 75))).status).toBe(200);
    await page.getByTestId('approval-status').filter({ hasText: 'redeemed' }).waitFor({ timeout: WAIT_MS });
  });

  it('updates the inbox live when another approver acts', async () => {
    const asked = await support.post<Decision>('/v1/decide', refund('APR-2', 90));
    const approvalId = asked.body.approval?.id as string;
    await page.locator(`[data-approval="${approvalId}"]`).click({ timeout: WAIT_MS });
    await page.getByTestId('approval-status').filter({ hasText: 'pending' }).waitFor({ timeout: WAIT_MS });
    const other = await personClient(server.url, 'alex', APPROVER_PASSWORD);
    expect((await other.post(`/v1/approvals/${approvalId}/deny`, { reason: 'duplicate request' })).status).toBe(200);
    await page.getByTestId('resolution').filter({ hasText: 'Denied by alex' }).filter({ hasText: 'duplicate request' }).waitFor({ timeout: LIVE_MS });
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  });

  it('does not let a viewer approve', async () => {
    const asked = await support.post<Decision>('/v1/decide', refund('APR-3', 80));
    const approvalId = asked.body.approval?.id as string;
    await signOut();
    await signIn('vera', VIEWER_PASSWORD);
    await nav('Approvals').click();
    await page.locator(`[data-approval="${approvalId}"]`).click({ timeout: WAIT_MS });
    await page.getByTestId('cannot-approve').waitFor({ timeout: WAIT_MS });
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Deny' }).count()).toBe(0);
    await screenshot(page, '05-approvals-viewer');
    // The server refuses it too, whatever the page shows.
    const viewer = await personClient(server.url, 'vera', VIEWER_PASSWORD);
    expect((await viewer.post(`/v1/approvals/${approvalId}/approve`, { reason: 'let me' })).body).toMatchObject({ error: { code: 'forbidden' } });
    // Nor pause anything: the kill switch is the admin's.
    await nav('Fleet').click();
    await page.getByTestId('fleet-table').waitFor({ timeout: WAIT_MS });
    expect(await page.getByRole('button', { name: 'Pause fleet' }).count()).toBe(0);
    // Nor edit policies: the sources are read-only.
    await nav('Policies').click();
    await page.getByRole('link', { name: 'View the active sources' }).click();
    await expect(sourceEditor(page, 'customer-support.yaml').getAttribute('aria-readonly')).resolves.toBe('true');
    expect(await page.getByRole('button', { name: 'Save as new version' }).count()).toBe(0);
    await signOut();
    await signIn('admin', ADMIN_PASSWORD);
  });

  it('shows the fleet with the blocked-rate flag, and an agent with its timeline', async () => {
    for (let i = 0; i < 10; i++) expect((await devops.post<Decision>('/v1/decide', { tool: 'delete_resource', args: { resource_id: `db-${i}`, environment: 'production' } })).body.effect).toBe('block');
    await nav('Fleet').click();
    const row = page.locator('[data-agent="devops-bot-1"]');
    await row.waitFor({ timeout: WAIT_MS });
    await expect(row.innerText()).resolves.toMatch(/devops-bot-1\s+devops\s+production[\s\S]*10[\s\S]*100 %[\s\S]*Blocked-rate spike/);
    await expect(page.locator('[data-agent="finance-bot-1"]').innerText()).resolves.toContain('never');
    await screenshot(page, '06-fleet');

    await page.getByRole('link', { name: 'support-bot-1' }).click();
    await page.getByRole('heading', { name: 'support-bot-1', level: 1 }).waitFor({ timeout: WAIT_MS });
    await page.getByTestId('audit-table').waitFor({ timeout: WAIT_MS });
    await expect(page.getByTestId('audit-table').innerText()).resolves.toMatch(/approval\.redeemed[\s\S]*approval\.approved/);
    await screenshot(page, '07-agent-detail');
  });

  it('shows a refund\'s approval route, refuses an edit into the blocked range, and edit-and-approves $75 → $50 for the waiting agent', async () => {
    const asked = await support.post<Decision>('/v1/decide', refund('EDIT-1', 75));
    expect(asked.body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium' });
    const approvalId = asked.body.approval?.id as string;
    const view = (await admin.get<{ deadlineAt: string; tier: string }>(`/v1/approvals/${approvalId}`)).body;
    expect(view.tier).toBe('lead');
    const waiting = support.get<{ status: string; args: Record<string, unknown>; edited: boolean }>(`/v1/approvals/${approvalId}/wait?timeout=60`);

    await nav('Approvals').click();
    const item = page.locator(`[data-approval="${approvalId}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    // The deadline as the browser shows local time: hours and minutes.
    const at = await page.evaluate((iso) => new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso)), view.deadlineAt);
    await expect(item.getByTestId('route-line').innerText()).resolves.toBe(`lead — tier 1 of 2 0 of 1 approval — 1 more from support-leads · escalates to manager (support-managers) at ${at}`);
    await item.click();
    // Polled, not read once: the detail of the clicked request renders after the click's navigation.
    await expect.poll(() => page.getByTestId('route-tier').innerText()).toBe('lead — tier 1 of 2');
    await expect.poll(() => page.getByTestId('route-approvals').innerText()).toBe('0 of 1 approval — 1 more from support-leads');
    await expect.poll(() => page.getByTestId('route-voters').innerText()).toBe('nobody yet');
    await expect.poll(() => page.getByTestId('route-deadline').innerText()).toMatch(new RegExp(`^Escalates to manager \\(support-managers\\) at ${at} \\(in (9|10) min\\)$`));
    await screenshot(page, '14-approval-route');

    // Edit and approve, by keyboard: the first argument field takes the focus.
    await page.getByRole('button', { name: 'Edit and approve' }).focus();
    await page.keyboard.press('Enter');
    const amount = page.getByLabel('amount (number)');
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.labels?.[0]?.textContent')).toBe('account_id (string)');
    await expect(amount.inputValue()).resolves.toBe('75');

    // Into the blocked range: the server refuses, nothing changes.
    await amount.fill('900');
    await page.getByLabel('Reason (recorded in the audit trail)').fill('Customer asked for the whole order');
    await page.getByRole('button', { name: 'Approve with changes' }).click();
    const refusal = page.getByTestId('refusal');
    await refusal.waitFor({ timeout: WAIT_MS });
    await expect(refusal.getAttribute('data-code')).resolves.toBe('edit_blocked');
    await expect(refusal.innerText()).resolves.toMatch(/The policy would block the edited call \(rule refund-large\)[\s\S]*edit_blocked/);
    expectConsoleClean({ status: 422, path: `/v1/approvals/${approvalId}/approve` });
    await screenshot(page, '15-edit-blocked');
    await expect(page.getByTestId('approval-status').textContent()).resolves.toBe('pending');
    expect((await admin.get<{ status: string; edited: boolean; args: { amount: number } }>(`/v1/approvals/${approvalId}`)).body).toMatchObject({ status: 'pending', edited: false, args: { amount: 75 } });

    // $50: approved, and the agent runs $50.
    await amount.fill('50');
    await page.getByLabel('Reason (recorded in the audit trail)').fill('Half the order was never shipped; $50 covers it');
    await page.getByRole('button', { name: 'Approve with changes' }).focus();
    await page.keyboard.press('Enter');
    const answered = await waiting;
    expect(answered.body).toMatchObject({ status: 'approved', edited: true, args: { account_id: 'EDIT-1', amount: 50, currency: 'USD' } });
    await page.getByTestId('resolution').filter({ hasText: 'Approved by you' }).waitFor({ timeout: WAIT_MS });
    const edited = page.getByTestId('edited-args');
    await expect(edited.getByLabel('Requested arguments').innerText()).resolves.toContain('"amount": 75');
    await expect(edited.getByLabel('Approved arguments').innerText()).resolves.toContain('"amount": 50');
    await expect(page.getByTestId('route-approvals').innerText()).resolves.toBe('1 of 1 approval');
    await expect(page.getByTestId('route-deadline').innerText()).resolves.toBe('— (no longer pending)');
    await expect(page.getByTestId('route-voters').innerText()).resolves.toMatch(/^admin at [\d:]+ \(with changes\): “Half the order was never shipped; \$50 covers it”$/);
    const redeemed = await support.post<{ status: string; args: Record<string, unknown> }>(`/v1/approvals/${approvalId}/redeem`, refund('EDIT-1', 75));
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).toMatchObject({ status: 'redeemed', args: { amount: 50 } });
    await page.getByTestId('approval-status').filter({ hasText: 'redeemed' }).waitFor({ timeout: WAIT_MS });
    await screenshot(page, '16-edited-approval');
  });

  it('shows a two-person payment collecting its approvals', async () => {
    const keys = Object.fromEntries((server.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
    const finance = agentClient(server.url, keys['finance-bot-1'] as string);
    expect((await admin.post('/v1/users', { username: 'fran', password: APPROVER_PASSWORD, role: 'approver', groups: ['finance-approvers'] })).status).toBe(201);
    const asked = await finance.post<Decision>('/v1/decide', { tool: 'make_payment', args: { amount: 15000, currency: 'USD', payee: 'Acme Supplies' } });
    expect(asked.body).toMatchObject({ effect: 'require_approval', rule: 'payment-medium' });
    const approvalId = asked.body.approval?.id as string;

    await nav('Approvals').click();
    const item = page.locator(`[data-approval="${approvalId}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    await expect(item.getByTestId('route-line').innerText()).resolves.toBe('two-person — tier 2 of 2 0 of 2 approvals — 2 more from finance-approvers');
    await item.click();
    await expect.poll(() => page.getByTestId('route-approvals').innerText()).toBe('0 of 2 approvals — 2 more from finance-approvers');
    await expect.poll(() => page.getByTestId('route-deadline').innerText()).toBe('none: waits until it expires');

    // Another approver approves through the API: list and detail follow live.
    const fran = await personClient(server.url, 'fran', APPROVER_PASSWORD);
    expect((await fran.post(`/v1/approvals/${approvalId}/approve`, { reason: 'Invoice matches the PO' })).status).toBe(200);
    await item.getByTestId('route-line').filter({ hasText: '1 of 2 approvals — 1 more from finance-approvers' }).waitFor({ timeout: LIVE_MS });
    await page.getByTestId('route-approvals').filter({ hasText: /^1 of 2 approvals — 1 more from finance-approvers$/ }).waitFor({ timeout: LIVE_MS });
    await expect(page.getByTestId('route-voters').innerText()).resolves.toMatch(/^fran at [\d:]+: “Invoice matches the PO”$/);
    await expect(page.getByTestId('approval-status').textContent()).resolves.toBe('pending');
    await screenshot(page, '17-two-person-payment');

    // The same person twice is refused plainly; the second person completes it.
    const again = await fran.post<{ error: { code: string } }>(`/v1/approvals/${approvalId}/approve`, { reason: 'again' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_approved' } } });
    await page.getByLabel('Reason (recorded in the audit trail)').fill('Second pair of eyes: confirmed');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByTestId('resolution').filter({ hasText: 'Approved by you' }).waitFor({ timeout: WAIT_MS });
    expect((await admin.get<{ status: string }>(`/v1/approvals/${approvalId}`)).body.status).toBe('approved');
  });

  it('shows a syntax error inline with its line, then validates the fix', async () => {
    await nav('Policies').click();
    await page.getByTestId('versions').waitFor({ timeout: WAIT_MS });
    await page.getByRole('link', { name: 'Edit a new version' }).click();
    await page.getByRole('tab', { name: 'customer-support.yaml' }).click();
    const original = await activeSource('customer-support.yaml');
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor({ timeout: WAIT_MS });

    const line = original.split('\n').findIndex((text) => text.includes('when: args.amount <= 50')) + 1;
    await replaceSource(page, 'customer-support.yaml', original.replace('when: args.amount <= 50', 'when: args.amount: <= 50'));
    await page.getByTestId('validation').filter({ hasText: 'problem' }).waitFor({ timeout: WAIT_MS });
    await expect(page.getByTestId('validation').innerText()).resolves.toContain(`customer-support.yaml:${line}`);
    await page.locator('.cm-lintRange-error').first().waitFor({ timeout: WAIT_MS });
    // The server's 422 for the invalid draft is what the page shows.
    expectConsoleClean({ status: 422, path: '/v1/policies/validate' });

    // The problem links to its line: the editor scrolls there with the caret on it.
    await page.getByRole('button', { name: `customer-support.yaml:${line}` }).click();
    await expect.poll(() => page.evaluate<string | null | undefined>("document.activeElement?.getAttribute('aria-label')")).toBe('customer-support.yaml source');
    await expect.poll(() => page.locator('.cm-lineNumbers .cm-activeLineGutter').innerText()).toBe(String(line));
    await screenshot(page, '08-policy-editor-error');
    // Close whatever the editor has open (a completion list) before the fix is typed over the draft.
    await sourceEditor(page, 'customer-support.yaml').press('Escape');
    await replaceSource(page, 'customer-support.yaml', original);
    // Polled text, not a locator wait: a failure shows what the validation said instead.
    await expect.poll(() => page.getByTestId('validation').innerText(), { timeout: WAIT_MS }).toContain('Valid:');
  });

  it('simulates a stricter refund limit against recorded calls, shows the flips, activates it and the next decision uses it', async () => {
    // Recorded under version 1 (at most $100 per account in 24 h): three $30 refunds, all allowed.
    for (let i = 0; i < 3; i++) expect((await support.post<Decision>('/v1/decide', refund('SIM-1', 30))).body).toMatchObject({ effect: 'allow', policy: { version: 1 } });

    const original = await activeSource('customer-support.yaml');
    expect(original).toContain('max: 100\n');
    await replaceSource(page, 'customer-support.yaml', original.replace('max: 100\n', 'max: 40\n'));
    await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor({ timeout: WAIT_MS });

    await page.getByLabel('Number of calls').fill('1000');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.getByTestId('simulation-result').waitFor({ timeout: WAIT_MS });
    // The second and third $30 to SIM-1 pass $40; every other recorded refund fits a $40 budget or was already reviewed.
    await expect(page.getByTestId('flip-count').innerText()).resolves.toBe('2');
    const flips = await page.getByTestId('flips').locator('tbody tr').allInnerTexts();
    expect(flips).toHaveLength(1);
    expect(flips[0]).toMatch(/allow\s+approval\s+refund-budget\s+2/);
    expect(flips[0]).toContain('account_id=SIM-1');
    await screenshot(page, '09-policy-simulation');

    // One hand-written call, too.
    await page.getByLabel('one call written here').check();
    await page.getByLabel('Agent').selectOption('support-bot-1');
    await page.getByLabel('Tool').fill('issue_refund');
    await page.getByLabel('Arguments (JSON)').fill(JSON.stringify({ account_id: 'HAND-1', amount: 45, currency: 'USD' }));
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.getByTestId('simulation-result').filter({ hasText: 'decided differently' }).waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Save as new version' }).click();
    await page.getByTestId('saved').filter({ hasText: 'Stored as version 2' }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Activate version 2' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Activate to version 2' }).click();
    await page.getByTestId('activated').waitFor({ timeout: WAIT_MS });

    // $30 then $30 to a fresh account: the second passes the new $40 budget (it would fit $100).
    expect((await support.post<Decision>('/v1/decide', refund('SIM-2', 30))).body).toMatchObject({ effect: 'allow', policy: { version: 2 } });
    expect((await support.post<Decision>('/v1/decide', refund('SIM-2', 30))).body).toMatchObject({ effect: 'require_approval', rule: 'refund-budget', policy: { version: 2 } });

    await nav('Policies').click();
    await page.locator('[data-version="2"]').filter({ hasText: 'active' }).waitFor({ timeout: WAIT_MS });
    await page.locator('.diff-add').filter({ hasText: 'max: 40' }).waitFor({ timeout: WAIT_MS });
    await screenshot(page, '10-policies-versions-diff');
  });

  it('shadows a candidate that lowers the automatic refund limit, counts its flips by rule, and promotes it in one step', async () => {
    const active = await admin.get<{ sources: { file: string; text: string }[] }>('/v1/policies/2');
    const files = active.body.sources.map((s) =>
      s.file === 'customer-support.yaml' ? { ...s, text: s.text.replace('args.amount <= 50', 'args.amount <= 30').replace('args.amount > 50 &&', 'args.amount > 30 &&') } : s,
    );
    expect((await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files })).body.version).toBe(3);

    await page.reload();
    const panel = page.getByTestId('shadow-panel');
    await panel.getByLabel('Version to shadow').selectOption('3');
    await panel.getByRole('button', { name: 'Start shadow' }).click();
    await panel.getByText('Version 3 is shadowing live traffic.').waitFor({ timeout: WAIT_MS });

    // Live traffic is still decided by version 2; version 3 would send the $40 refund to approval.
    expect((await support.post<Decision>('/v1/decide', refund('SHADOW-1', 40))).body).toMatchObject({ effect: 'allow', policy: { version: 2 } });
    expect((await support.post<Decision>('/v1/decide', refund('SHADOW-2', 20))).body).toMatchObject({ effect: 'allow', policy: { version: 2 } });
    // The counts follow the decision stream: nobody clicks "Refresh".
    await expect.poll(() => panel.getByTestId('shadow-flips').innerText(), { timeout: WAIT_MS }).toBe('1');
    const flips = await panel.getByTestId('flips').locator('tbody tr').allInnerTexts();
    expect(flips).toHaveLength(1);
    expect(flips[0]).toMatch(/allow\s+approval\s+refund-medium\s+1/);
    expect(flips[0]).toContain('account_id=SHADOW-1');
    // Its own request: waited for, the card says "Looking for suggestions" until it answers.
    await page.getByTestId('suggestions').filter({ hasText: 'No suggestion' }).waitFor({ timeout: WAIT_MS });
    await screenshot(page, '18-shadow-mode');

    await panel.getByRole('button', { name: 'Promote version 3' }).click();
    await panel.getByText('Version 3 is now active.').waitFor({ timeout: WAIT_MS });
    await page.locator('[data-version="3"]').filter({ hasText: 'active' }).waitFor({ timeout: WAIT_MS });
    expect((await support.post<Decision>('/v1/decide', refund('SHADOW-3', 40))).body).toMatchObject({ effect: 'require_approval', rule: 'refund-medium', policy: { version: 3 } });
  });

  it('pauses an agent from its page (its calls are refused), follows a pause taken elsewhere live, and resumes both', async () => {
    const readAccount = () => support.post<Decision & { reason: string; error?: { code: string } }>('/v1/decide', { tool: 'get_account', args: { account_id: 'KILL-1' } });
    expect((await readAccount()).body.effect).toBe('allow');
    await nav('Fleet').click();
    await page.locator('[data-agent="support-bot-1"]').getByRole('link', { name: 'support-bot-1' }).click();
    await page.getByRole('heading', { name: 'support-bot-1', level: 1 }).waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Pause agent' }).click();
    const form = page.getByTestId('pause-form');
    await expect(form.getByRole('button', { name: 'Pause now' }).isDisabled()).resolves.toBe(true);
    await form.getByLabel(/^Reason/).fill('refund loop, INC-7');
    // A timed pause: it ends by itself in an hour, and the banner says until when.
    await form.getByLabel('For').selectOption({ label: '1 hour' });
    await form.getByText('will be refused for 1 hour (or until a person resumes it)').waitFor({ timeout: WAIT_MS });
    await form.getByRole('button', { name: 'Pause now' }).click();
    const banner = page.getByTestId('pause-banner');
    await banner.filter({ hasText: 'Agent support-bot-1 is paused by admin' }).filter({ hasText: 'refund loop, INC-7' }).waitFor({ timeout: WAIT_MS });
    const timed = (await admin.get<{ pauses: { scope: string; createdAt: string; endsAt: string | null }[] }>('/v1/pauses?active=true')).body.pauses.find((p) => p.scope === 'agent');
    expect(Date.parse(timed?.endsAt ?? '') - Date.parse(timed?.createdAt ?? '')).toBe(3_600_000);
    await banner.getByTestId('pause-ends').filter({ hasText: /\d/ }).waitFor({ timeout: WAIT_MS });
    expect(await banner.locator('li').filter({ hasText: 'Agent support-bot-1' }).textContent()).toMatch(/until .+\(in \d+ (min|h)/);
    const refused = await readAccount();
    expect(refused.body).toMatchObject({ effect: 'block', rule: null, error: { code: 'paused' } });
    expect(refused.body.reason).toContain('refund loop, INC-7');

    // A pause taken elsewhere (the CLI, another admin) shows up without a reload.
    const byApi = await admin.post<{ id: string }>('/v1/pauses', { scope: 'tool', target: 'scale_service', reason: 'deploy freeze' });
    expect(byApi.status).toBe(201);
    await banner.locator(`[data-pause="${byApi.body.id}"]`).filter({ hasText: 'Tool scale_service is paused by admin' }).waitFor({ timeout: LIVE_MS });
    await screenshot(page, '19-kill-switch');

    await nav('Fleet').click();
    await page.locator('[data-agent="support-bot-1"]').getByTestId('paused-flag').filter({ hasText: 'Paused' }).waitFor({ timeout: WAIT_MS });
    expect(await page.locator('[data-agent="devops-bot-1"]').getByTestId('paused-flag').count()).toBe(0);

    // Resume both from the fleet banner: the agent is served again, the banner is gone.
    for (const text of ['Agent support-bot-1', 'Tool scale_service']) {
      await page.getByTestId('pause-banner').locator('li').filter({ hasText: text }).getByRole('button', { name: 'Resume' }).click();
      await page.getByTestId('pause-banner').locator('li').filter({ hasText: text }).waitFor({ state: 'detached', timeout: WAIT_MS });
    }
    expect(await page.getByTestId('pause-banner').count()).toBe(0);
    expect((await readAccount()).body.effect).toBe('allow');
    const { body } = await admin.get<{ records: { type: string; actor: string }[] }>('/v1/audit?type=pause.resumed&limit=5');
    expect(body.records.map((r) => r.actor)).toEqual(['user:admin', 'user:admin']);
  });

  it('shows the session and what the agent said it is doing beside an approval request, marked as not verified', async () => {
    const asked = await support.post<Decision>('/v1/decide', {
      ...refund('CTX-1', 120),
      sessionAttributes: { customer: 'CTX-1', channel: 'chat' },
      intent: 'Refund the duplicate charge on order 77',
    });
    expect(asked.body.effect).toBe('require_approval');
    const approvalId = asked.body.approval?.id as string;
    await nav('Approvals').click();
    await page.locator(`[data-approval="${approvalId}"]`).click({ timeout: WAIT_MS });
    await expect.poll(() => page.getByTestId('stated-intent').innerText()).toBe('“Refund the duplicate charge on order 77” (stated by the agent, not verified)');
    await expect.poll(() => page.getByTestId('session-attributes').innerText()).toBe('customer = "CTX-1", channel = "chat"');
    await screenshot(page, '20-approval-intent');
    expect((await admin.post(`/v1/approvals/${approvalId}/deny`, { reason: 'checked in the e2e test' })).status).toBe(200);
  });

  it('labels tell the truth: a blocked $900 refund reads critical, a denied approval says denied, refusals name their cause', async () => {
    expect((await support.post<Decision>('/v1/decide', refund('TRUTH-900', 900))).body).toMatchObject({ effect: 'block', rule: 'refund-large' });
    expect((await support.post<Decision>('/v1/decide', { tool: 'no_such_tool', args: {} })).body.effect).toBe('block');
    await nav('Live feed').click();
    const table = page.getByTestId('feed-table');
    await table.waitFor({ timeout: WAIT_MS });
    const blocked = table.locator('tbody tr').filter({ hasText: 'TRUTH-900' });
    await blocked.waitFor({ timeout: WAIT_MS });
    await expect(blocked.getByTestId('risk').innerText()).resolves.toMatch(/^critical/i);
    await expect(table.locator('tbody tr').filter({ hasText: 'no_such_tool' }).getByTestId('cause').innerText()).resolves.toBe('unknown tool');
    // CTX-1 was denied in the step before: its row says how the approval ended.
    const denied = table.locator('tbody tr').filter({ hasText: 'CTX-1' });
    await expect(denied.getByTestId('approval-outcome').getAttribute('data-status')).resolves.toBe('denied');
    await expect(denied.getByTestId('approval-outcome').innerText()).resolves.toBe('approval: denied');
    await expect(denied.getByTestId('risk').innerText()).resolves.toMatch(/^high \(40\)/);
    await screenshot(page, '21-feed-truthful-labels');
    // The outcome follows live: an approval asked for now reads waiting, then denied.
    const asked = await support.post<Decision>('/v1/decide', refund('TRUTH-LIVE', 60));
    const live = table.locator('tbody tr').filter({ hasText: 'TRUTH-LIVE' });
    await live.getByTestId('approval-outcome').filter({ hasText: 'approval: waiting' }).waitFor({ timeout: LIVE_MS });
    expect((await admin.post(`/v1/approvals/${asked.body.approval?.id as string}/deny`, { reason: 'e2e' })).status).toBe(200);
    await live.getByTestId('approval-outcome').filter({ hasText: 'approval: denied' }).waitFor({ timeout: LIVE_MS });
  });

  it('overview: what needs attention links to its records; a chart bar opens the feed filtered to its effect', async () => {
    const pause = await admin.post<{ id: string }>('/v1/pauses', { scope: 'agent', target: 'support-bot-1', reason: 'e2e overview' });
    expect(pause.status).toBe(201);
    expect((await support.post<Decision>('/v1/decide', refund('PAUSED-1', 5))).body).toMatchObject({ effect: 'block', error: { code: 'paused' } });
    const oldest = (await admin.get<{ approvals: { oldestPending: { id: string } | null } }>('/v1/stats/overview')).body.approvals.oldestPending;
    expect(oldest).not.toBeNull();

    await nav('Overview').click();
    const pauses = page.getByTestId('attention-pauses');
    await pauses.filter({ hasText: 'Paused: Agent support-bot-1' }).waitFor({ timeout: WAIT_MS });
    // Each card loads on its own request: waited for, not read once.
    await page.getByTestId('attention-oldest-approval').filter({ hasText: /issue_refund[\s\S]*by support-bot-1, waiting[\s\S]*(Escalates to manager|Expires)/ }).waitFor({ timeout: WAIT_MS });
    const anomalies = page.getByTestId('attention-anomalies');
    await anomalies.filter({ hasText: /Learning|No anomaly|support-bot-1|devops-bot-1/ }).waitFor({ timeout: WAIT_MS });
    // Loaded: only now does the absence of the misleading line mean anything.
    expect(await anomalies.getByText('No anomaly in the last 7 days').count()).toBe(0);
    await page.getByTestId('tile-decisions').waitFor({ timeout: WAIT_MS });
    await screenshot(page, '22-overview-attention');

    // The paused agent's card leads to exactly its refused calls.
    await pauses.getByRole('link', { name: 'refused calls' }).click();
    await page.getByTestId('feed-table').waitFor({ timeout: WAIT_MS });
    const url = new URL(page.url());
    expect(url.pathname).toBe('/feed');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ agent: 'support-bot-1', cause: 'paused' });
    const causes = await page.getByTestId('feed-table').locator('tbody tr[data-decision]').getByTestId('cause').allInnerTexts();
    expect(causes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(causes)).toEqual(new Set(['paused (kill switch)']));
    expect((await admin.post(`/v1/pauses/${pause.body.id}/resume`)).status).toBe(200);

    // The oldest waiting approval opens its page.
    await nav('Overview').click();
    await page.getByTestId('oldest-approval-link').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/approvals/${oldest?.id as string}`);
    await page.getByTestId('approval-status').filter({ hasText: 'pending' }).waitFor({ timeout: WAIT_MS });

    // A blocked bar of the chart opens the feed with the blocked decisions of that bucket only.
    await nav('Overview').click();
    await page.getByTestId('tile-decisions').waitFor({ timeout: WAIT_MS });
    const chart = page.getByRole('figure', { name: 'Decisions over time, stacked by effect' });
    await chart.locator('.bar-block .recharts-bar-rectangle').last().click();
    await page.getByTestId('feed-table').waitFor({ timeout: WAIT_MS });
    const feedUrl = new URL(page.url());
    expect(feedUrl.pathname).toBe('/feed');
    expect(feedUrl.searchParams.get('effect')).toBe('block');
    expect(Date.parse(feedUrl.searchParams.get('to') ?? '') - Date.parse(feedUrl.searchParams.get('from') ?? '')).toBe(15 * 60_000);
    await expect(page.getByLabel('Effect').inputValue()).resolves.toBe('block');
    const effects = await page.getByTestId('feed-table').locator('tbody tr[data-decision]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-effect')));
    expect(effects.length).toBeGreaterThan(0);
    expect(new Set(effects)).toEqual(new Set(['block']));
    await screenshot(page, '23-feed-from-chart');

    // The filters live in the URL: the fleet keeps them on reload.
    await page.goto(`${server.url}/fleet?role=devops`);
    await page.getByTestId('fleet-table').waitFor({ timeout: WAIT_MS });
    await expect.poll(() => page.locator('[data-testid="fleet-table"] tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-agent')))).toEqual(['devops-bot-1']);
    await expect(page.getByLabel('Role').inputValue()).resolves.toBe('devops');
    await screenshot(page, '24-fleet-filtered');
  });

  it('searches the audit trail, opens a record, verifies the chain and offers exports', async () => {
    await nav('Audit').click();
    await page.getByTestId('chain-status').filter({ hasText: 'Chain intact' }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Type', { exact: true }).selectOption('decision');
    await page.getByLabel('Agent', { exact: true }).fill('support-bot-1');
    await page.getByLabel('Rule', { exact: true }).fill('refund-budget');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('audit-table').locator('tbody tr').count(), { timeout: WAIT_MS }).toBe(1);
    await page.getByTestId('audit-table').locator('tbody tr').first().getByRole('button').click();
    // Read as the call first; the raw JSON one click away.
    await expect.poll(() => page.getByTestId('record-call').textContent(), { timeout: WAIT_MS }).toContain('SIM-2');
    await page.getByText('Raw record data (JSON)').click();
    await expect(page.getByLabel(/Record \d+ data/).innerText()).resolves.toContain('"account_id": "SIM-2"');
    const csv = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    expect(csv).toBe('/v1/audit/export?type=decision&agent=support-bot-1&rule=refund-budget&format=csv');
    const exported = await page.evaluate(async (href) => (await fetch(href)).text(), csv as string);
    expect(exported.split('\r\n').filter(Boolean)).toHaveLength(2);
    await screenshot(page, '11-audit');
  });

  it('fits a 1366×768 laptop screen', async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await nav('Overview').click();
    await page.getByTestId('tile-decisions').waitFor({ timeout: WAIT_MS });
    // Nothing wider than the window: no horizontal scrolling of the page.
    await expect(page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).resolves.toBe(true);
    await screenshot(page, '12-overview-laptop');
    await nav('Approvals').click();
    await page.getByTestId('pending-count').waitFor({ timeout: WAIT_MS });
    await expect(page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).resolves.toBe(true);
    await screenshot(page, '13-approvals-laptop');
  });
});
