import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { agentClient, personClient, type Client } from './support/api.js';
import { answered, launchBrowser, reportPageOnFailure, screenshot, signInWithPassword, type TestBrowser } from './support/browser.js';

/**
 * Management screens end to end (issue 20 item 4): an admin registers an agent in the console and
 * the key it shows works; rotating it in the console makes the old key refused and the new one
 * work; a viewer sees no management control and the API refuses their mutation.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password 1234';
const WAIT_MS = 15_000;

const refund = { tool: 'issue_refund', args: { account_id: 'CONSOLE-1', amount: 5, currency: 'USD' } };

describe('management screens in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let admin: Client;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-management-', ADMIN_PASSWORD);
    server = harness.server;
    admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    expect((await admin.post('/v1/users', { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer' })).status).toBe(201);
    browser = await launchBrowser({ width: 1440, height: 900 });
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
  });

  afterEach(() => {
    expect(browser.takeConsoleErrors()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  function expectConsoleClean(...expected: { status: number; path: string }[]): void {
    expect(browser.takeConsoleErrors(answered(...expected))).toEqual([]);
  }

  async function signIn(username: string, password: string): Promise<void> {
    await signInWithPassword(page, server.url, username, password);
    expectConsoleClean({ status: 401, path: '/v1/auth/session' });
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  }

  function nav(name: string) {
    return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  }

  /** The secret the page shows once, then dismissed. */
  async function takeSecret(): Promise<string> {
    const shown = page.getByTestId('secret-once');
    await shown.waitFor();
    await expect(shown.innerText()).resolves.toMatch(/shown this once/);
    const value = await page.getByTestId('secret-value').inputValue();
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    await shown.waitFor({ state: 'detached' });
    return value;
  }

  it('an admin registers an agent, uses the key shown once, rotates it: the old key is refused, the new one works', async () => {
    await signIn('admin', ADMIN_PASSWORD);
    await nav('Agents').click();
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    const form = page.getByTestId('create-agent');
    await form.getByLabel('Agent id').fill('console-bot-1');
    await form.getByLabel('Role', { exact: true }).fill('support');
    await form.getByLabel('Environment').fill('staging');
    await form.getByRole('button', { name: 'Register and issue a key' }).click();
    const first = await takeSecret();
    expect(first).toMatch(/^ak_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);

    const oldKey = agentClient(server.url, first);
    const allowed = await oldKey.post<{ effect: string }>('/v1/decide', refund);
    expect(allowed.status).toBe(200);
    expect(allowed.body.effect).toBe('allow');

    // The list shows the agent with its role, environment, one key, and (after a reload) when it was last seen.
    await page.reload();
    const row = page.locator('[data-testid="agents-table"] tr[data-agent="console-bot-1"]');
    await row.waitFor();
    await expect(row.innerText()).resolves.toMatch(/support\s+staging\s+1\s+/);
    await expect(row.innerText()).resolves.not.toMatch(/never/);

    await row.getByRole('button', { name: 'Keys' }).click();
    const keys = page.getByTestId('agent-keys');
    const active = keys.locator('tr[data-state="active"]');
    await active.waitFor();
    expect(await active.count()).toBe(1);
    const oldId = await active.getAttribute('data-key');
    await active.getByRole('button', { name: 'Rotate' }).click();
    await active.getByRole('button', { name: 'Rotate now' }).click();
    const second = await takeSecret();
    expect(second).not.toBe(first);
    await keys.locator(`tr[data-key="${oldId}"][data-state="revoked"]`).waitFor();
    await screenshot(page, 'management-agents');

    expect((await oldKey.post('/v1/decide', refund)).status).toBe(401);
    const renewed = await agentClient(server.url, second).post<{ effect: string }>('/v1/decide', refund);
    expect(renewed.status).toBe(200);
    expect(renewed.body.effect).toBe('allow');

    // The rotation is in the audit trail, by the admin, naming both keys.
    const audit = await admin.get<{ records: { type: string; actor: string; data: Record<string, unknown> }[] }>('/v1/audit?type=key.rotated&limit=10');
    expect(audit.body.records.find((r) => r.data.replaces === oldId)).toMatchObject({ actor: 'user:admin', data: { agent: 'console-bot-1' } });

    // People: an admin changes a person's role in the console.
    await nav('People').click();
    const vera = page.locator('[data-testid="users-table"] tr[data-user="vera"]');
    await vera.waitFor();
    await vera.getByLabel('Role of vera').selectOption('approver');
    await vera.getByRole('button', { name: 'Save role' }).click();
    await page.getByText('vera is now approver.').waitFor();
    const users = await admin.get<{ users: { username: string; role: string }[] }>('/v1/users');
    expect(users.body.users.find((u) => u.username === 'vera')?.role).toBe('approver');
    await vera.getByLabel('Role of vera').selectOption('viewer');
    await vera.getByRole('button', { name: 'Save role' }).click();
    await page.getByText('vera is now viewer.').waitFor();
    await screenshot(page, 'management-people');
    await signOut();
  });

  it('a viewer sees the agents and no management control; the API refuses their mutation', async () => {
    await signIn('vera', VIEWER_PASSWORD);
    // No People page in the navigation.
    expect(await nav('People').count()).toBe(0);
    await nav('Agents').click();
    const row = page.locator('[data-testid="agents-table"] tr[data-agent="console-bot-1"]');
    await row.waitFor();
    expect(await page.getByTestId('create-agent').count()).toBe(0);
    await row.getByRole('button', { name: 'Keys' }).click();
    const keys = page.getByTestId('agent-keys');
    await keys.locator('tr[data-state="active"]').waitFor();
    for (const name of ['Rotate', 'Revoke', 'Issue another key', 'Register and issue a key']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    const keyId = (await keys.locator('tr[data-state="active"]').getAttribute('data-key')) as string;

    // The server refuses anyway: the viewer's own session, outside the page's controls.
    const viewer = await personClient(server.url, 'vera', VIEWER_PASSWORD);
    for (const [path, body] of [
      [`/v1/keys/${keyId}/rotate`, {}],
      ['/v1/agents', { id: 'viewer-bot', role: 'support' }],
      ['/v1/agents/console-bot-1/keys', {}],
      ['/v1/users/vera/role', { role: 'admin' }],
    ] as const) {
      const refused = await viewer.post<{ error: { code: string } }>(path, body);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.code).toBe('forbidden');
    }
    // Typing the People address shows the server's refusal, not the list.
    await page.goto(`${server.url}/users`);
    await page.getByRole('alert').filter({ hasText: 'forbidden' }).waitFor();
    expect(await page.getByTestId('users-table').count()).toBe(0);
    expectConsoleClean({ status: 403, path: '/v1/users' });
    // Nothing changed.
    const listed = await admin.get<{ keys: { id: string; revokedAt: string | null }[] }>('/v1/agents/console-bot-1/keys');
    expect(listed.body.keys.filter((k) => k.revokedAt === null).map((k) => k.id)).toEqual([keyId]);
    await signOut();
  });
});
