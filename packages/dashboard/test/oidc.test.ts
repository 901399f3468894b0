import { parseOidcConfig, type RunningServer } from '@airlock/server';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, type Client } from './support/api.js';
import { launchBrowser, reportPageOnFailure, screenshot, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { freePort, startProvider, type TestProvider } from './support/oidc-provider.js';

/**
 * Single sign-on in Chromium: the built console served by a real server whose password sign-in
 * is switched off, signing in through a real OpenID Connect provider the test starts
 * (`oidc-provider`): its own login and consent pages, then back in the console with the role the
 * provider's groups map to. Alice (group airlock-approvers) approves a pending refund; Victor
 * (no mapped group) is a viewer and gets no approve button.
 */
const WAIT_MS = 15_000;
const PROVIDER_NAME = 'Acme SSO';

describe('single sign-on in Chromium', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let provider: TestProvider;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  let page: Page;
  let support: Client;

  beforeAll(async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    // No admin password: password sign-in is switched off.
    harness = await startConsoleServer('airlock-dashboard-oidc-', undefined, {
      passwordLogin: false,
      oidc: parseOidcConfig(
        {
          issuer,
          clientId: 'airlock-console',
          clientSecret: 'a client secret only this test knows 0123456789',
          name: PROVIDER_NAME,
          scopes: ['openid', 'profile', 'groups'],
          roles: { 'airlock-approvers': 'approver' },
          approverGroups: { 'airlock-approvers': ['support-leads', 'support-managers'] },
        },
        'test',
      ),
    });
    server = harness.server;
    provider = await startProvider(port, `${server.url}/v1/auth/oidc/callback`, {
      alice: { preferred_username: 'alice', groups: ['staff', 'airlock-approvers'] },
      victor: { preferred_username: 'victor', groups: ['staff'] },
    });
    support = agentClient(server.url, harness.keys['support-bot-1'] as string);
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(WAIT_MS);
  });

  afterEach(() => {
    expectConsoleClean();
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await provider?.close();
    expect(harness?.errors).toEqual([]);
  });

  /**
   * No console error or warning from the console's own pages, except the 401 of GET
   * /v1/auth/session before anyone signed in. The provider's pages are not ours (its dev login
   * page asks for a web font, which this offline machine cannot load).
   */
  function expectConsoleClean(): void {
    const ours = new URL(server.url).origin;
    const allowed = (message: ConsoleMessage): boolean => {
      const where = message.location().url;
      if (where === '' || new URL(where).origin !== ours) return true;
      return message.text().includes('status of 401') && new URL(where).pathname === '/v1/auth/session';
    };
    expect(browser.takeConsoleErrors(allowed)).toEqual([]);
  }

  /** From the console's sign-in page through the provider's login (and consent, the first time) back into the console. */
  async function signInThroughProvider(login: string): Promise<void> {
    await page.goto(`${server.url}/`);
    const button = page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` });
    await button.waitFor();
    // Password sign-in is switched off: no password form at all.
    expect(await page.getByLabel('Password').count()).toBe(0);
    expect(await page.getByLabel('Username').count()).toBe(0);
    await screenshot(page, '19-sso-sign-in');
    await button.click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('typed at the provider');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    const overview = page.getByRole('heading', { name: 'Overview' });
    const consent = page.getByRole('button', { name: 'Continue' });
    await overview.or(consent).waitFor();
    if (await consent.isVisible()) await consent.click();
    await overview.waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(server.url).origin);
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: `Sign in with ${PROVIDER_NAME}` }).waitFor();
    // The provider keeps its own session; the next person signs in afresh.
    await browser.context.clearCookies();
  }

  async function pendingRefund(account: string): Promise<string> {
    const asked = await support.post<{ effect: string; approval?: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: account, amount: 75, currency: 'USD' },
    });
    expect(asked.body.effect).toBe('require_approval');
    return asked.body.approval?.id as string;
  }

  it('signs a member of the approvers group in as an approver, who approves a pending refund', async () => {
    const approvalId = await pendingRefund('SSO-1');
    await signInThroughProvider('alice');
    await expect(page.locator('.user').innerText()).resolves.toMatch(/alice\s+approver/);
    await screenshot(page, '20-sso-approver');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals', exact: true }).click();
    await page.locator(`[data-approval="${approvalId}"]`).click();
    await page.getByLabel('Reason (recorded in the audit trail)').fill('Checked, signed in through SSO');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByTestId('resolution').filter({ hasText: 'Approved by you' }).waitFor();
    const approval = await support.get<{ status: string; resolvedBy: string }>(`/v1/approvals/${approvalId}`);
    expect(approval.body).toMatchObject({ status: 'approved', resolvedBy: 'alice' });
    await signOut();
  });

  it('signs a person of no mapped group in as a viewer, who gets no approve button', async () => {
    const approvalId = await pendingRefund('SSO-2');
    await signInThroughProvider('victor');
    await expect(page.locator('.user').innerText()).resolves.toMatch(/victor\s+viewer/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals', exact: true }).click();
    await page.locator(`[data-approval="${approvalId}"]`).click();
    await page.getByTestId('cannot-approve').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Deny' }).count()).toBe(0);
    await screenshot(page, '21-sso-viewer');
    await signOut();
  });

  it('shows why a refused sign-in was refused (a replayed callback)', async () => {
    await page.goto(`${server.url}/v1/auth/oidc/callback?code=stolen&state=replayed`);
    await page.getByRole('alert').filter({ hasText: 'That sign-in expired, was already used' }).waitFor();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('sso_state_invalid');
    // The code is read once: a reload does not show it again.
    expect(new URL(page.url()).search).toBe('');
  });
});
