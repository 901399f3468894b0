import type { RunningServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { personClient } from './support/api.js';
import { answered, launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

/**
 * The forms of the People and Tokens screens, end to end in Chromium: busy while their request
 * runs, the server's refusal shown with its code, and a success that works over the API.
 */
const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;

describe('people and token forms in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;

  beforeAll(async () => {
    harness = await startConsoleServer('airlock-management-forms-', ADMIN_PASSWORD);
    server = harness.server;
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    expect(browser.takeConsoleErrors(answered({ status: 401, path: '/v1/auth/session' }))).toEqual([]);
  });

  afterEach(() => {
    expect(browser.takeConsoleErrors()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

  it('adds a person who can then sign in; a taken username shows the refusal and keeps the form', async () => {
    await nav('People').click();
    const form = page.getByTestId('create-user');
    await form.getByLabel('Username').fill('nora');
    await form.getByLabel('Password (12 characters or more)').fill('a long enough password');
    await form.getByLabel('Role').selectOption('approver');
    await form.getByLabel('Approver groups (comma-separated)').fill('support-leads');
    await form.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('status').filter({ hasText: 'Created nora.' }).waitFor();
    await page.locator('[data-testid="users-table"] tr[data-user="nora"]').waitFor();
    // The form is cleared for the next person.
    await expect(form.getByLabel('Username').inputValue()).resolves.toBe('');
    const nora = await personClient(server.url, 'nora', 'a long enough password');
    expect((await nora.get<{ user: { role: string; groups: string[] } }>('/v1/auth/session')).body).toMatchObject({ user: { role: 'approver', groups: ['support-leads'] } });

    await form.getByLabel('Username').fill('nora');
    await form.getByLabel('Password (12 characters or more)').fill('another long password');
    await form.getByRole('button', { name: 'Add' }).click();
    // The server's refusal, with its code (docs/errors.md).
    await form.getByRole('alert').filter({ hasText: "user 'nora' already exists" }).filter({ hasText: 'already_exists' }).waitFor();
    // The refusal keeps what was typed, and the button is usable again.
    await expect(form.getByLabel('Username').inputValue()).resolves.toBe('nora');
    await expect(form.getByRole('button', { name: 'Add' }).isEnabled()).resolves.toBe(true);
    expect(browser.takeConsoleErrors(answered({ status: 409, path: '/v1/users' }))).toEqual([]);
  });

  it('creates a token shown once that works, then revokes it: the API refuses it', async () => {
    await nav('Tokens').click();
    const form = page.getByTestId('create-token');
    await form.getByLabel('What it is for').fill('forms test');
    await form.getByRole('button', { name: 'Create' }).click();
    const shown = page.getByTestId('secret-once');
    await shown.waitFor();
    const token = await page.getByTestId('secret-value').inputValue();
    expect(token).toMatch(/^apt_/);
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    const call = () => fetch(`${server.url}/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
    expect((await call()).status).toBe(200);

    const row = page.getByTestId('tokens-table').locator('tr[data-state="active"]').filter({ hasText: 'forms test' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke now' }).click();
    await page.getByTestId('tokens-table').locator('tr[data-state="revoked"]').filter({ hasText: 'forms test' }).waitFor();
    expect((await call()).status).toBe(401);
  });
});
